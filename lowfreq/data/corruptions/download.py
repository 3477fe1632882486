"""Downloads of the official corruption releases: CIFAR-10-C and ImageNet-C.

CIFAR-10-C is one checksummed archive, ImageNet-C four; offline they fail fast, saying what to put where.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from lowfreq.core.download import download_file, extract_tar, probe
from lowfreq.data.corruptions.names import check_corruptions
from lowfreq.data.corruptions.release import (
    CIFAR10C_FILENAME,
    CIFAR10C_MD5,
    CIFAR10C_URL,
    IMAGENETC_ARCHIVE_URL,
    IMAGENETC_ARCHIVES,
    IMAGENETC_IMAGES_PER_CONDITION,
    cifar10_c_missing_message,
    count_imagenet_c_images,
    find_cifar10_c,
)

__all__ = [
    "download_cifar10_c",
    "download_imagenet_c",
]

log = logging.getLogger(__name__)


def download_cifar10_c(data_dir: str | Path, *, timeout: float | None = None) -> Path:
    """Make CIFAR-10-C available in ``data_dir``: nothing when present, else extract or download (md5-checked).

    Offline, a HEAD request to Zenodo fails within ``timeout`` seconds (default 8) and nothing is written.

    Args:
        data_dir: folder that holds (or will hold) ``CIFAR-10-C/`` or ``CIFAR-10-C.tar``.
        timeout: seconds for the reachability probe; None = 8 s.

    Returns:
        The folder with the ``.npy`` files (see ``find_cifar10_c``).

    Raises:
        RuntimeError: the archive is corrupt, the server cannot be reached, or the download failed; the message
            says what to put where.
    """
    from torchvision.datasets.utils import check_integrity, download_and_extract_archive, extract_archive

    root = Path(data_dir).expanduser()
    try:
        return find_cifar10_c(root)
    except FileNotFoundError:
        pass
    archive = root / CIFAR10C_FILENAME
    if archive.is_file():
        if not check_integrity(str(archive), CIFAR10C_MD5):
            raise RuntimeError(
                f"{archive} is corrupt (md5 differs from {CIFAR10C_MD5}); delete it and download it again from "
                f"{CIFAR10C_URL}"
            )
        log.info("extracting %s", archive)
        extract_archive(str(archive), str(root))
        return find_cifar10_c(root)
    reason = probe(CIFAR10C_URL, timeout)
    if reason is not None:
        raise RuntimeError(cifar10_c_missing_message(root, f"cannot download {CIFAR10C_URL}: {reason}"))
    try:
        download_and_extract_archive(CIFAR10C_URL, str(root), filename=CIFAR10C_FILENAME, md5=CIFAR10C_MD5)
    except Exception as err:
        raise RuntimeError(
            cifar10_c_missing_message(root, f"download of {CIFAR10C_URL} failed: {type(err).__name__}: {err}")
        ) from err
    return find_cifar10_c(root)


def download_imagenet_c(
    data_dir: str | Path, corruptions: Sequence[str] | None = None, *, progress: bool = True,
    timeout: float | None = None,
) -> Path:
    """Make ImageNet-C's ``<corruption>/<severity>/<wnid>/`` folders available in ``data_dir``.

    Downloads the archives (``IMAGENETC_ARCHIVES``, tens of GB) that hold the requested corruptions and are not
    already unpacked, unpacks them (filtered tar extraction) and checks the result: every requested corruption
    must have the five severity folders with ``IMAGENETC_IMAGES_PER_CONDITION`` images each (there are no
    published checksums for these archives, so the unpacked folders are checked instead). An archive file already
    in ``data_dir`` is unpacked without downloading. Offline, the error names the archive, its URL and the folder.

    Args:
        data_dir: the ImageNet-C root (receives ``<corruption>/<severity>/``).
        corruptions: corruption names (None = all 15).
        progress: show a download progress bar.
        timeout: seconds the reachability probe waits; None = 8 s.

    Returns:
        ``data_dir`` as a Path.
    """
    root = Path(data_dir).expanduser()
    wanted = set(check_corruptions(corruptions))

    def complete(name: str) -> bool:
        folders = [root / name / str(s) for s in range(1, 6)]
        return all(f.is_dir() and count_imagenet_c_images(f) == IMAGENETC_IMAGES_PER_CONDITION for f in folders)

    for archive_name, members in IMAGENETC_ARCHIVES.items():
        if not wanted & set(members) or all(complete(name) for name in members):
            continue
        archive = root / f"{archive_name}.tar"
        if not archive.is_file():
            download_file(IMAGENETC_ARCHIVE_URL.format(name=archive_name), archive, progress=progress,
                          timeout=timeout, hint=f"then run download_imagenet_c({str(root)!r}) again to unpack it")
        with tempfile.TemporaryDirectory(dir=root) as tmp:
            extract_tar(archive, tmp)
            for name in members:
                found = [p for p in (Path(tmp) / name, Path(tmp) / archive_name / name) if p.is_dir()]
                if not found:
                    raise RuntimeError(f"{archive} does not contain the folder {name}/")
                for severity in range(1, 6):
                    n = count_imagenet_c_images(found[0] / str(severity))
                    if n != IMAGENETC_IMAGES_PER_CONDITION:
                        raise RuntimeError(f"{archive} holds {n} images in {name}/{severity}/, expected "
                                           f"{IMAGENETC_IMAGES_PER_CONDITION}: the archive is incomplete, delete it "
                                           "and download it again")
                if (root / name).exists():
                    shutil.rmtree(root / name)
                shutil.move(str(found[0]), root / name)
        archive.unlink()
        log.info("ImageNet-C %s -> %s", archive_name, root)
    return root
