"""The HTML report in headless Chromium with the network off: charts render, nothing is fetched.

Skips only when Chromium is missing on a developer's machine; under CI (CI=true) a missing
Chromium is a failure (.ci/run installs Debian's `chromium`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from cstool.config import settings_from_dict
from cstool.kpis import portfolio
from cstool.render.html import html_report

pytestmark = pytest.mark.slow  # a real browser: seconds per test

AS_OF = date(2026, 11, 23)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("CI needs Debian's chromium for the HTML report test", pytrace=False)
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

# Chromium's own service calls, which some builds make whatever the flags say (component and
# extension updates, network time, sign-in); they are the browser's, not the page's. The
# hosts a blank page's run asks for are the browser's too (`page_requests`).
BROWSER_HOSTS = (
    "update.googleapis.com",
    "accounts.google.com",
    "clients2.google.com",
    "www.google.com",
)

# Colours only the charts draw in quantity: band bars and the trend lines.
CHART_COLOURS = {"red": (0xD6, 0x45, 0x45), "green": (0x2E, 0x9E, 0x5B), "line": (0x3B, 0x6F, 0xD6)}


def scored(n: int, seed: int, shift: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    health = np.clip(rng.normal(62, 20, n), 0, 100)
    band = np.where(health < 50, "red", np.where(health < 75, "yellow", "green"))
    ids = [f"C{i:05d}" for i in range(shift, n + shift)]
    return pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string"),
            "name": pd.array([f"Client {i}" for i in ids], dtype="string"),
            "mrr": rng.gamma(2.0, 300.0, n),
            "satisfaction": np.clip(health + rng.normal(0, 8, n), 0, 100),
            "health": health,
            "band": pd.array(band, dtype="string"),
            "nps": pd.array(rng.integers(0, 11, n), dtype="Int64"),
            "segment": pd.array(rng.choice(["Champions", "Grow", "Rescue"], n), dtype="string"),
        }
    )


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = settings_from_dict(
        {"goals": [{"metric": "satisfied_share", "target": 85, "deadline": "2027-06-30"}]}
    )
    snapshots = pd.concat(
        [
            scored(400, seed=k, shift=8 * k)
            .drop(columns="name")
            .assign(as_of=pd.Timestamp(AS_OF - timedelta(days=30 * (6 - k))))
            for k in range(6)
        ],
        ignore_index=True,
    )
    current = scored(400, seed=99, shift=48)
    page = html_report(portfolio(current, settings, AS_OF, snapshots), current, settings)
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


class _Proxy:
    """A loopback HTTP proxy that only records what is asked of it (and answers 502)."""

    def __init__(self) -> None:
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.requests: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(1.0)
                try:
                    head = conn.recv(4096).decode("latin-1").split("\r\n", 1)[0]
                except OSError:
                    head = "?"
                self.requests.append(head)
                with contextlib.suppress(OSError):
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

    def __enter__(self) -> _Proxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.server.close()


@pytest.fixture
def proxy() -> Iterator[_Proxy]:
    with _Proxy() as running:
        yield running


def screenshot(page: Path, out: Path, proxy: _Proxy) -> Image.Image:
    """Open `page` in headless Chromium, every request sent to the recording proxy."""
    profile = out.parent / f"profile-{out.stem}"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--disable-client-side-phishing-detection",
        "--disable-domain-reliability",
        "--disable-breakpad",
        "--no-pings",
        "--no-default-browser-check",
        "--safebrowsing-disable-auto-update",
        "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,"
        "MediaRouter,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--proxy-server=http://127.0.0.1:{proxy.port}",
        "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        f"--screenshot={out}",
        "--window-size=1280,2000",
        "--virtual-time-budget=3000",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert out.exists(), done.stderr.decode(errors="replace")[-2000:]
    return Image.open(out).convert("RGB")


_OWN_HOSTS: set[str] = set()
_OWN_HOSTS_READ = threading.Event()


def _host(request: str) -> str:
    """The host of a proxy request line (`CONNECT host:443 …`, `GET http://host/… …`)."""
    target = request.split(" ")[1] if " " in request else request
    return target.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]


def page_requests(requests: list[str], folder: Path) -> list[str]:
    """What a page asked the network for: the requests less the browser's own, which are
    the hosts a blank page's run asks for in this Chromium (newer builds call www.google.com
    and accounts.google.com at start whatever the flags say) and the known service hosts."""
    if not _OWN_HOSTS_READ.is_set():
        blank = folder / "blank.html"
        blank.write_text("<!DOCTYPE html><html><body><p>blank</p></body></html>", "utf-8")
        with _Proxy() as own:
            screenshot(blank, folder / "blank.png", own)
        _OWN_HOSTS.update(_host(line) for line in own.requests)
        _OWN_HOSTS_READ.set()
    own_hosts = _OWN_HOSTS | set(BROWSER_HOSTS)
    return [line for line in requests if _host(line) not in own_hosts]


def chart_pixels(image: Image.Image) -> dict[str, int]:
    """How many pixels are (nearly) each chart colour."""
    pixels = np.asarray(image).astype(int)
    return {
        name: int((np.abs(pixels - np.array(rgb)).sum(axis=2) < 24).sum())
        for name, rgb in CHART_COLOURS.items()
    }


def test_report_renders_its_charts_offline(
    report_page: Path, tmp_path: Path, proxy: _Proxy
) -> None:
    image = screenshot(report_page, tmp_path / "report.png", proxy)
    assert image.size == (1280, 2000)
    colours = len(np.unique(np.asarray(image).reshape(-1, 3), axis=0))
    assert colours > 50, "the page looks blank"

    # The same page with its charts taken out: what the charts add must be plenty.
    bare_page = tmp_path / "bare.html"
    page = report_page.read_text(encoding="utf-8")
    bare_page.write_text(re.sub(r"<svg.*?</svg>", "", page, flags=re.S), encoding="utf-8")
    bare = screenshot(bare_page, tmp_path / "bare.png", proxy)
    with_charts, without = chart_pixels(image), chart_pixels(bare)
    for name in CHART_COLOURS:
        assert with_charts[name] > without[name] + 1500, (name, with_charts, without)

    asked = page_requests(proxy.requests, tmp_path)
    assert asked == [], f"the page asked the network for {asked}"


def test_the_request_check_would_see_a_fetch(tmp_path: Path, proxy: _Proxy) -> None:
    """The proxy does catch a page that fetches something, so an empty list means something."""
    page = tmp_path / "fetching.html"
    page.write_text(
        '<!DOCTYPE html><html><body><img src="http://cstool-sentinel.invalid/pixel.png">'
        "<p>fetches</p></body></html>",
        encoding="utf-8",
    )
    screenshot(page, tmp_path / "fetching.png", proxy)
    asked = page_requests(proxy.requests, tmp_path)
    assert any("cstool-sentinel.invalid" in line for line in asked), proxy.requests
