"""`yellowtui serve` in a real browser: Playwright driving Debian's Chromium (installed by .ci/run).

The server runs as the user would run it, a child process printing its one URL; the browser
opens that URL, sees the streams, filters, opens a stream, and is refused an apply (serve is
read-only by default). Requests without the token get 401 and start no dashboard process, and
closing the tab ends the tab's dashboard.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_dashboard import seed

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parent.parent
SCREENSHOT = REPO / "screenshots" / "serve-read-only.png"
#: textual-serve's page draws the terminal on a canvas (xterm.js' canvas renderer): there is no
#: text in the DOM. The test reads xterm's own screen buffer instead, through a handle this line
#: adds to the page's script as the browser receives it (the served file is not changed).
EXPOSE = ("const t=new w(e,{ping:r});", "const t=new w(e,{ping:r});window.yellowTerminal=t.terminal;")
SCREEN_TEXT = """() => {
    const buffer = window.yellowTerminal.buffer.active;
    const lines = [];
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i).translateToString(true));
    return lines.join("\\n");
}"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="needs Debian's chromium (apt-get install chromium; .ci/run installs it)",
    ),
]


def descendants(pid: int) -> list[int]:
    """Every process under ``pid`` (Linux /proc): the dashboards the server started."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def eventually(condition: Callable[[], Any], timeout: float, what: str, seen: Callable[[], str] = str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; on screen:\n{seen()}")


@pytest.fixture
def served(pg: Any, db_url: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, dict[str, Any]]]:
    from simulators.fault_proxy import start_proxy
    from tools.screenshots import proxy_url

    summary = seed(db_url, streams=12, bad=1)
    proxy = start_proxy(pg.socket_path)  # a loopback TCP address: the screenshot shows no socket folder
    env = {
        **os.environ,
        "YELLOW_DB_URL": proxy_url(db_url, proxy.port),
        "PYTHONPATH": str(REPO),
        "YELLOW_CONFIG": str(tmp_path / "none.toml"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "yellowtui", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert server.stdout is not None
        url = ""
        for line in server.stdout:
            if match := re.search(r"open (http://127\.0\.0\.1:\d+/\?token=\S+)", line):
                url = match[1]
                break
        assert url, "serve printed no URL"
        yield server, url, summary
    finally:
        server.terminate()
        server.wait(timeout=20)
        proxy.stop()


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_without_the_token_401_and_nothing_starts(served) -> None:
    server, url, _ = served
    base = url.split("?")[0]
    assert status_of(base) == 401
    assert status_of(base + "?token=wrong") == 401
    assert status_of(base + "ws?width=80&height=24") == 401
    assert status_of(base + "static/js/textual.js") == 401
    time.sleep(1)
    assert descendants(server.pid) == [], "a request without the token started a dashboard"


def test_host_beyond_loopback_needs_allow_remote(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "yellowtui", "serve", "--host", "0.0.0.0", "--db", "postgresql://u@localhost/x"],
        env={**os.environ, "PYTHONPATH": str(REPO), "YELLOW_CONFIG": str(tmp_path / "none.toml")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0" in result.stderr and "--allow-remote" in result.stderr


def expose_terminal(route: Any) -> None:
    response = route.fetch()
    script = response.text()
    assert EXPOSE[0] in script, "textual-serve's script changed: update EXPOSE"
    route.fulfill(response=response, body=script.replace(*EXPOSE))


def test_a_browser_session(served) -> None:
    from playwright.sync_api import sync_playwright

    server, url, _ = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.route("**/static/js/textual.js", expose_terminal)
            page.goto(url)
            assert "token" not in page.url, "the token is moved out of the address bar"
            page.wait_for_function("() => window.yellowTerminal !== undefined")

            def shown() -> str:
                return str(page.evaluate(SCREEN_TEXT))

            eventually(lambda: "Broken0001" in shown(), 90, "the streams table", shown)
            assert "READ-ONLY" in shown()
            assert len(descendants(server.pid)) >= 1
            page.locator("#terminal").click()

            page.keyboard.press("/")
            page.wait_for_timeout(1000)  # keys cross a websocket: let the filter take the focus first
            page.keyboard.type("Broken0001", delay=50)
            eventually(lambda: "showing 2 of" in shown(), 30, "the filter", shown)
            page.keyboard.press("Enter")  # back to the table
            page.wait_for_timeout(500)
            page.keyboard.press("Enter")  # open the highlighted stream
            eventually(lambda: re.search(r"yellow\w+ / Broken0001", shown()), 30, "the stream's detail", shown)
            assert "History" in shown()

            page.keyboard.press("P")  # stage a pause, then the plan, then apply
            page.wait_for_timeout(500)
            page.keyboard.press("5")
            eventually(lambda: "plan of the staged" in shown() and "planning" not in shown(), 60, "the plan", shown)
            page.wait_for_timeout(1000)
            page.keyboard.press("a")
            eventually(lambda: "nothing can be applied here" in shown(), 30, "the read-only refusal", shown)
            page.wait_for_timeout(500)
            target = SCREENSHOT if os.environ.get("YELLOW_UPDATE_SCREENSHOTS") else None
            image = page.screenshot(path=target)
            assert len(image) > 10_000

            page.close()
            eventually(lambda: descendants(server.pid) == [], 30, "the tab's dashboard to end")
        finally:
            browser.close()
