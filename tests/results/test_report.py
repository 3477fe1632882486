"""``lowfreq report``: one self-contained HTML file, rendered in a real headless Chromium."""

import http.server
import io
import re
import shutil
import socketserver
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lowfreq.callbacks import AdversarialSpectrumAnalysis, HybridCurveAnalysis
from lowfreq.results.report import report_html, write_report

from fake_runs import headlines, run_config, write_run

MAGENTA = (255, 0, 255)
BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")


def _block_png(size: int = 240) -> bytes:
    """A solid magenta square: easy to find again in a screenshot."""
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), MAGENTA).save(buffer, format="PNG")
    return buffer.getvalue()


def _runs(tmp_path: Path) -> list[Path]:
    blur = write_run(tmp_path / "blur", run_config("GaussianBlur", 0, sigma=1.5), {
        "hybrid": {"hybrid": {"f_rev": 0.21, "f_rev_std": 0.01}, "callback": "HybridCurveAnalysis",
                   "versions": {"lowfreq": "0.1.0", "torch": "9.9"},
                   "headlines": headlines(HybridCurveAnalysis, f_rev=0.21, f_rev_perm_std=0.01)},
        "adversarial": {"f_half": 0.31, "summary": {"median": 3 / 255, "mean": 3 / 255, "std": 0.01},
                        "headlines": headlines(AdversarialSpectrumAnalysis, f_half=0.31, eps_median=3 / 255,
                                               eps_mean=3 / 255, eps_std=0.01)},
    }, metrics={"val_acc": 0.875, "train_loss_epoch": 0.4}, figures={"hybrid": _block_png()})
    base = write_run(tmp_path / "base", run_config("Identity", 0), {
        "hybrid": {"hybrid": {"f_rev": 0.55}, "headlines": headlines(HybridCurveAnalysis, f_rev=0.55)},
        "adversarial": {"f_half": 0.44, "summary": {"median": 1 / 255, "mean": 1 / 255, "std": 0.01},
                        "headlines": headlines(AdversarialSpectrumAnalysis, f_half=0.44, eps_median=1 / 255,
                                               eps_mean=1 / 255, eps_std=0.01)},
    }, metrics={"val_acc": 0.91})
    return [blur, base]


def test_report_holds_numbers_paper_values_config_and_versions(tmp_path):
    text = report_html(_runs(tmp_path))
    assert "<h2>Comparison</h2>" in text
    assert "GaussianBlur(σ=1.5) + CIFARResNet18 seed 0" in text
    assert "CIFARResNet18, no front-end seed 0" in text
    assert "0.21" in text
    assert "0.875" in text
    assert "baseline 0.528 ± 0.0009" in text  # the paper value beside f_rev
    assert "config.yaml" in text
    assert "seed_everything: 0" in text
    assert "versions recorded by the run: lowfreq 0.1.0, torch 9.9" in text
    assert text.count("Versions at report time") == 1
    assert text.count("<td>torch</td>") == 1
    assert text.count("<img ") >= 4  # comparison scatter, two training-curve figures, the hybrid figure


def test_report_is_self_contained(tmp_path):
    path = write_report(_runs(tmp_path), tmp_path / "r.html")
    text = path.read_text()
    sources = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", text)
    assert sources
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"https?://", text)
    assert "Content-Security-Policy" in text
    assert "default-src 'none'" in text


def test_one_run_writes_into_its_directory(tmp_path):
    run = _runs(tmp_path)[0]
    assert write_report([run]) == run / "report.html"
    assert "<h2>Comparison</h2>" not in (run / "report.html").read_text()


def test_report_command(tmp_path, capsys):
    from lowfreq.cli.lightning_cli import main

    runs = _runs(tmp_path)
    main(["report", *map(str, runs), "--out", str(tmp_path / "both.html"), "--names", "blur", "base"])
    assert capsys.readouterr().out.strip() == f"wrote {tmp_path / 'both.html'}"
    assert "blur seed 0" in (tmp_path / "both.html").read_text()
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path / "missing")])
    assert exit_info.value.code == 2
    assert "does not exist" in capsys.readouterr().err


class _RecordingProxy(socketserver.ThreadingTCPServer):
    """An HTTP proxy on the loopback that records every request the browser sends and answers none."""

    daemon_threads = True

    def __init__(self) -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                self.send_response(404)
                self.end_headers()

            do_CONNECT = do_POST = do_GET

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def _browser() -> str:
    for name in BROWSERS:
        if shutil.which(name):
            return name
    pytest.skip(f"no headless browser found (looked for {', '.join(BROWSERS)}); "
                "install Debian's chromium-headless-shell, as .ci/run does")


def _screenshot(browser: str, page: Path, out: Path, proxy: _RecordingProxy) -> Image.Image:
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--proxy-server=http://127.0.0.1:{proxy.server_address[1]}", "--proxy-bypass-list=<-loopback>",
         "--virtual-time-budget=5000", "--window-size=1280,6000", f"--screenshot={out}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    return Image.open(out).convert("RGB")


def test_report_renders_in_chromium_with_visible_figures_and_no_requests(tmp_path):
    browser = _browser()
    proxy = _RecordingProxy()
    try:
        # the control: a page that does reference the network is seen by the proxy, so silence below means something
        leaky = tmp_path / "leaky.html"
        leaky.write_text('<html><body><img src="http://example.invalid/x.png"></body></html>')
        _screenshot(browser, leaky, tmp_path / "leaky.png", proxy)
        assert proxy.requests, "the proxy must see the control page's request"
        proxy.requests.clear()

        page = write_report(_runs(tmp_path), tmp_path / "report.html")
        shot = np.asarray(_screenshot(browser, page, tmp_path / "shot.png", proxy)).astype(int)
        assert proxy.requests == []
    finally:
        proxy.shutdown()
        proxy.server_close()
    magenta = (np.abs(shot - np.array(MAGENTA)).sum(-1) < 30)
    rows, cols = np.nonzero(magenta)
    assert magenta.sum() > 150 * 150  # the 240 px magenta figure is drawn (scaled at most to the page's width)
    assert rows.max() - rows.min() > 150
    assert cols.max() - cols.min() > 150
    ink = (shot.sum(-1) < 600) & ~magenta  # non-white, non-magenta: text, axes and the matplotlib figures
    assert ink.mean() > 0.01
