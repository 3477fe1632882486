"""Downloads that fail fast offline: a reachability probe and a checksummed download (``torch.hub``).

Every lowfreq download goes through ``download_file`` (``torch.hub.download_url_to_file``: a temporary file in
the target folder, SHA-256 checked while streaming, moved into place only when complete). Before the download,
``probe`` asks the server for the URL's headers within a few seconds, in a daemon thread, so neither a missing
DNS nor a silently dropped connection can hang the caller; offline, the error says which file to put where.
"""

from __future__ import annotations

import hashlib
import tarfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["PROBE_TIMEOUT_S", "download_file", "extract_tar", "file_sha256", "probe"]

PROBE_TIMEOUT_S = 8.0
"""Seconds ``probe`` waits for an answer before calling a server unreachable."""


def probe(url: str, timeout: float | None = None) -> str | None:
    """None when ``url`` answers an HTTP HEAD request within ``timeout`` seconds, else the reason it does not.

    ``file://`` URLs are checked on disk. Any HTTP answer (also 403/405 of servers that refuse HEAD) counts as
    reachable: the download itself reports HTTP errors.

    Args:
        url: the URL to probe.
        timeout: seconds to wait, > 0; None uses ``PROBE_TIMEOUT_S``.
    """
    timeout = PROBE_TIMEOUT_S if timeout is None else timeout
    if url.startswith("file://"):
        path = Path(urllib.request.url2pathname(url.removeprefix("file://")))
        return None if path.is_file() else f"no such file: {path}"
    result: list[str | None] = []

    def target() -> None:
        try:
            request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "lowfreq"})
            with urllib.request.urlopen(request, timeout=timeout):
                result.append(None)
        except urllib.error.HTTPError:  # the server answered: reachable
            result.append(None)
        except Exception as err:  # any other failure means "not reachable"
            result.append(f"{type(err).__name__}: {err}")

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    return result[0] if result else f"no answer within {timeout:.0f} s"


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a local file (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_file(
    url: str,
    dest: str | Path,
    *,
    sha256: str | None = None,
    progress: bool = False,
    hint: str = "",
    timeout: float | None = None,
    probe_first: bool = True,
) -> Path:
    """Download ``url`` to ``dest`` (folders created), checking the SHA-256 (or a prefix of it) when given.

    Args:
        url: http(s) or ``file://`` URL.
        dest: target file; written only once the download is complete (and its checksum verified).
        sha256: expected SHA-256 hex digest, or a prefix of it (torchvision's file names carry 8 digits); None
            skips the check.
        progress: show a progress bar.
        hint: appended to the offline error (e.g. which argument points to the file instead).
        timeout: seconds ``probe`` waits for the server (None: ``PROBE_TIMEOUT_S``).
        probe_first: probe the server first (False when the caller just probed it for another file).

    Returns:
        ``dest`` as a Path.

    Raises:
        RuntimeError: the server cannot be reached, the download failed, or the checksum differs; the message says
            which file to put where.
    """
    dest = Path(dest).expanduser()
    place = f"fetch {url} elsewhere and place it at {dest}" + (f", {hint}" if hint else "")
    reason = probe(url, timeout) if probe_first else None
    if reason is not None:
        raise RuntimeError(f"cannot download {url} ({reason}). Without internet access, {place}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    import torch.hub  # here, not at the top: `lowfreq download --help` starts without torch

    try:
        torch.hub.download_url_to_file(url, str(dest), hash_prefix=sha256, progress=progress)
    except RuntimeError as err:  # torch.hub's checksum error
        raise RuntimeError(f"download of {url} is corrupt ({err}); try again, or {place}") from None
    except (OSError, ValueError) as err:  # URLError and HTTPError are OSErrors
        raise RuntimeError(f"download of {url} failed ({type(err).__name__}: {err}); {place}") from None
    return dest


def extract_tar(archive: str | Path, dest: str | Path) -> None:
    """Unpack a tar archive into ``dest`` with tarfile's "data" filter (no member may land outside ``dest``).

    Used for archives without a published checksum (torchvision's ``extract_archive`` applies no filter on
    Python < 3.14).
    """
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:  # pragma: no cover - Python < 3.10.12 / 3.11.4
            tar.extractall(dest)
