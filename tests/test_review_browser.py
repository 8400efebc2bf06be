"""out/index.html in a real browser: headless Chromium driven over the DevTools protocol.

Chromium speaks the protocol over two pipes (--remote-debugging-pipe: it reads commands on fd 3
and writes replies on fd 4, each message NUL-terminated JSON), so no client library is needed.
Skips with a message where Chromium is not installed; under CI (which installs Debian's
chromium) a missing browser fails instead.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from click.testing import CliRunner

from cdisc_umsc.cli import main

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
    "--window-size=1200,900",
    "about:blank",
]
TIMEOUT = 60.0


def _browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    message = (
        "Chromium is not installed (apt-get install chromium); the review page's "
        "browser test needs it"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{message}; .ci/run installs it, so under CI this is a failure")
    pytest.skip(message)


class DevTools:
    """A minimal DevTools-protocol session over Chromium's debugging pipes."""

    def __init__(self, exe: str, profile: Path) -> None:
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()
        # keep our ends above fd 4 so placing the child's ends on 3 and 4 cannot clobber them
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_child_r, from_child_w)]
        os.close(to_child_r)
        os.close(from_child_w)

        def place() -> None:
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.proc = subprocess.Popen(
            [exe, f"--user-data-dir={profile}", *FLAGS],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=place,
            pass_fds=(3, 4),
        )
        for fd in high:
            os.close(fd)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []
        self.session: str | None = None

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("no reply from Chromium")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium exited: {self.proc.stderr.read().decode()[-2000:]}")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        deadline = time.monotonic() + TIMEOUT
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)


EXTRACT = """JSON.stringify({
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  cells: [...document.querySelectorAll('td[data-table]')].map(td =>
      Object.assign({text: td.textContent}, td.dataset)),
  figures: [...document.querySelectorAll('figure svg')].length,
  images: [...document.querySelectorAll('img')].length,
  scripts: document.scripts.length,
  ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  height: document.documentElement.scrollHeight})"""


@pytest.fixture(scope="module")
def browsed(bundled_run, tmp_path_factory):
    """The page as Chromium loaded it: extracted DOM facts, events, screenshot path."""
    exe = _browser()
    _result, out = bundled_run
    page = out / "index.html"
    tmp = tmp_path_factory.mktemp("browser")
    tools = DevTools(exe, tmp / "profile")
    try:
        target = tools.call("Target.createTarget", url="about:blank")["targetId"]
        tools.session = tools.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            tools.call(f"{domain}.enable")
        tools.call("Page.navigate", url=page.resolve().as_uri())
        tools.wait_for("Page.loadEventFired")
        facts = json.loads(
            tools.call("Runtime.evaluate", expression=EXTRACT, returnByValue=True)["result"][
                "value"
            ]
        )
        shot = tools.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": 1200, "height": facts["height"], "scale": 1},
        )
        png = tmp / "review.png"
        png.write_bytes(base64.b64decode(shot["data"]))
        events = [e for e in tools.events if "method" in e]
    finally:
        tools.close()
    return {"out": out, "facts": facts, "events": events, "png": png}


def test_no_console_errors_and_no_fetch(browsed):
    events = browsed["events"]
    errors = [e["params"] for e in events if e["method"] == "Runtime.exceptionThrown"]
    errors += [
        e["params"]
        for e in events
        if e["method"] == "Runtime.consoleAPICalled"
        and e["params"]["type"] in ("error", "assert", "warning")
    ]
    errors += [
        e["params"]["entry"]
        for e in events
        if e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] in ("error", "warning")
    ]
    assert errors == []
    requests = [
        e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"
    ]
    assert requests and all(urlparse(u).scheme in ("file", "data") for u in requests), requests
    assert [u for u in requests if u.startswith("file:")] == [
        (browsed["out"] / "index.html").resolve().as_uri()
    ]


def test_every_link_resolves_to_a_file_in_out(browsed):
    out = browsed["out"].resolve()
    links = browsed["facts"]["links"]
    targets = {Path(unquote(urlparse(u).path)) for u in links if not urlparse(u).fragment}
    assert all(urlparse(u).scheme == "file" for u in links)
    assert all(t.is_file() and out in t.parents for t in targets), targets
    # every dataset file of the run, both define files per standard
    written = {
        p
        for folder in ("sdtm", "adam")
        for p in (out / folder).iterdir()
        if p.suffix in (".xpt", ".json") or p.name.startswith("define.")
    }
    assert written <= targets
    assert len(written) == 2 * 2 + len(list(out.glob("*/*.xpt")))
    for anchor in ("run", "files", "efficacy", "labs", "safety"):
        assert any(urlparse(u).fragment == anchor for u in links)
        assert anchor in browsed["facts"]["ids"]


def test_tables_equal_cdisc_umsc_report(browsed, tmp_path):
    out = browsed["out"]
    res = CliRunner().invoke(
        main, ["report", "--adam", str(out / "adam"), "--json", str(tmp_path / "r.json")]
    )
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "r.json").read_text())
    cells = browsed["facts"]["cells"]
    shown = {(c["endpoint"], c["group"], c["level"]): c for c in cells if c["table"] == "efficacy"}
    assert len(shown) == len(report["efficacy"]) > 0
    for r in report["efficacy"]:
        c = shown[(r["endpoint"], r["group"], r["level"])]
        assert c["text"] == f"{r['n']}/{r['N']} ({r['pct']:.1f} %)"
        assert (int(c["resp"]), int(c["total"]), float(c["pct"])) == (r["n"], r["N"], r["pct"])
    assert shown[("PASI40", "Overall", "")]["text"] == "8/17 (47.1 %)"
    imm = {(c["paramcd"], c["group"], c["stat"]): c for c in cells if c["table"] == "labs"}
    assert len(imm) == 4 * len(report["labs"]) > 0
    for r in report["labs"]:
        key = (r["paramcd"], r["group"])
        assert imm[(*key, "N")]["text"] == str(r["N"])
        for stat in ("baseline_median", "last_median", "change_median"):
            fmt = "+.2f" if stat == "change_median" else ".2f"
            assert imm[(*key, stat)]["text"] == format(r[stat], fmt)
            assert float(imm[(*key, stat)]["value"]) == r[stat]


def test_figures_render_and_screenshot_saved(browsed):
    facts = browsed["facts"]
    assert facts["figures"] == 6 and facts["images"] == 0 and facts["scripts"] == 0
    assert len(facts["ids"]) == len(set(facts["ids"]))  # SVG ids do not clash between plots
    png = browsed["png"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == 1200 and height == facts["height"] > 3000
    print(f"screenshot: {browsed['png']}")
