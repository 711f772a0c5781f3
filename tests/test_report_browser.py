"""The HTML report in a real headless Chromium (DevTools protocol): charts drawn, console clean, no network.

Chromium is Debian's `chromium` package; the set-up installs it with apt-get when it is missing (as
root). The test is skipped, saying why, only when that is impossible.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.analyst_helpers import cli

pytest_plugins = ["tests.analyst_fixtures"]

pytestmark = pytest.mark.slow

CHART_STATS = """
(() => {
  const charts = [...document.querySelectorAll('svg.chart')].map(svg => {
    const box = svg.getBoundingClientRect();
    const marks = [...svg.querySelectorAll('.mark')];
    const drawn = marks.filter(m => { const b = m.getBBox(); return b.width > 0 || b.height > 0; });
    const first = marks.find(m => m.tagName === 'rect' || m.tagName === 'circle');
    first.scrollIntoView({block: 'center'});
    const r = first.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return {chart: svg.dataset.chart, width: box.width, height: box.height, marks: marks.length,
            drawn: drawn.length, hit: hit === first || first.contains(hit),
            hatched: marks.filter(m => (m.getAttribute('fill') || '').startsWith('url(')).length};
  });
  return JSON.stringify({charts, title: document.title, numbers: document.querySelectorAll('td.num').length,
                         height: document.documentElement.scrollHeight});
})()
"""


def _find_or_install_chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("chromium is not installed and this user cannot apt-get install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1200)
        if done.returncode != 0:
            pytest.skip(f"could not install chromium ({' '.join(command)}): {done.stderr.strip()[-300:]}")
    return shutil.which("chromium") or pytest.skip("apt-get installed chromium but it is not on PATH")


class Browser:
    """A headless Chromium process and one DevTools websocket to its page."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.process = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
             "--no-default-browser-check", "--remote-debugging-port=0", f"--user-data-dir={profile}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = self._port(profile / "DevToolsActivePort")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            target = next(t for t in json.load(response) if t["type"] == "page")
        from websockets.sync.client import connect

        self.socket = connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=20)
        self.events: list[dict] = []
        self.next_id = 0

    def _port(self, marker: Path, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker.is_file() and marker.read_text().strip():
                return int(marker.read_text().splitlines()[0])
            if self.process.poll() is not None:
                pytest.fail(f"chromium exited with code {self.process.returncode}")
            time.sleep(0.1)
        pytest.fail("chromium did not open its DevTools port")

    def send(self, method: str, **params) -> dict:
        """Call a DevTools method and return its result; events seen meanwhile are kept."""
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message["result"]
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 60.0) -> dict:
        """The first event of this name (already seen or arriving within `timeout`)."""
        for message in self.events:
            if message.get("method") == event:
                return message
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(self.socket.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            self.events.append(message)
            if message.get("method") == event:
                return message
        pytest.fail(f"no {event} within {timeout} s")

    def open(self, url: str) -> None:
        self.events.clear()
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=1100, height=900, deviceScaleFactor=1, mobile=False)
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> object:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries seen since the page was opened."""
        found = []
        for m in self.events:
            params = m.get("params", {})
            if m.get("method") == "Runtime.exceptionThrown":
                found.append(params["exceptionDetails"].get("text", "exception"))
            elif m.get("method") == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(" ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
            elif m.get("method") == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(params["entry"]["text"])
        return found

    def requests(self) -> list[str]:
        return [m["params"]["request"]["url"] for m in self.events if m.get("method") == "Network.requestWillBeSent"]

    def screenshot(self, path: Path) -> tuple[int, int]:
        """A full-page PNG; returns its width and height."""
        import base64

        data = base64.b64decode(self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"])
        path.write_bytes(data)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        return struct.unpack(">II", data[16:24])

    def close(self) -> None:
        self.socket.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium for the module."""
    binary = _find_or_install_chromium()
    instance = Browser(binary, tmp_path_factory.mktemp("chromium-profile"))
    yield instance
    instance.close()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_charts_render_and_the_console_stays_clean(browser, demo_warehouse, tmp_path, lang):
    result = cli("report", "--database", str(demo_warehouse), "--year", "2015", "--lang", lang,
                 "--output", str(tmp_path))
    assert result.exit_code == 0, result.output
    page = tmp_path / f"report-2015-{lang}.html"
    browser.open(page.as_uri())
    stats = json.loads(browser.evaluate(CHART_STATS))
    charts = {c["chart"]: c for c in stats["charts"]}
    assert set(charts) == {"industrial_output", "industrial_growth", "trade_exports_imports", "trade_retail",
                           "awards_by_level"}
    for chart in charts.values():
        assert chart["width"] > 300 and chart["height"] > 150, chart
        assert chart["marks"] > 0 and chart["drawn"] == chart["marks"], chart
        assert chart["hit"], chart  # the first bar or point is what the page shows at its place
    assert charts["industrial_output"]["marks"] == 6
    assert charts["industrial_output"]["hatched"] == 1  # 2015 is an estimate
    assert charts["trade_exports_imports"]["marks"] == 12
    assert stats["numbers"] > 50
    assert browser.problems() == []
    assert all(url.startswith(("file:", "data:")) for url in browser.requests()), browser.requests()
    width, height = browser.screenshot(tmp_path / f"report-{lang}.png")
    assert width == 1100 and height >= stats["height"] > 2000


def test_the_console_check_catches_an_error(browser, tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><title>x</title><script>console.error('boom'); undefinedCall();</script>",
                      encoding="utf-8")
    browser.open(broken.as_uri())
    problems = browser.problems()
    assert any("boom" in p for p in problems)
    assert any("Uncaught" in p or "undefinedCall" in p for p in problems)
