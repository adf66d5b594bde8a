"""Three browser engines behind one small driver, so that each key journey is written once
(issue 18 item 3, decision 0046). All three are Debian packages; nothing is downloaded.

- Chromium: Debian's ``chromium`` under Playwright (as ``browser.py`` starts it).
- Firefox ESR: Debian's ``firefox-esr`` over Marionette, the remote protocol built into Firefox
  (geckodriver, its usual front, is in no registry this machine reaches). A length-prefixed JSON
  protocol on a local TCP port: no extra package. The viewport is set from Firefox's chrome
  context on the ``<browser>`` element (a window cannot be narrower than 450 px), and console
  errors are read from Firefox's own console services.
- WebKitGTK: Debian's ``webkit2gtk-driver`` (WebKitWebDriver, W3C WebDriver over HTTP, spoken
  here with urllib) driving MiniBrowser in Xvfb. MiniBrowser's window cannot be narrower than
  its toolbar (447 px): narrower widths are reported as such (``Driver.width``). WebKitWebDriver
  has no log endpoint: console errors and uncaught exceptions are collected by a listener added
  after each load (so an error during the load itself shows only through its effect, which the
  journeys check: the script's enhancements must be in place).

``Driver``: ``open(url)``, ``js(expression)``, ``click(selector)``, ``type(selector, text)``,
``screenshot(path)``, ``console_errors()``, ``width``; made by ``engine(name, width)``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENGINES = ("chromium", "firefox", "webkit")
FIREFOX = Path("/usr/bin/firefox-esr")
WEBKIT_DRIVER = Path("/usr/bin/WebKitWebDriver")
MINIBROWSER = Path("/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser")
XVFB = Path("/usr/bin/Xvfb")
HEIGHT = 900
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C WebDriver element key
TIMEOUT = 60

# Collects uncaught errors and console.error calls in pages where the engine gives no console.
COLLECTOR = """
if (!window.__kokasenErrors) {
  window.__kokasenErrors = [];
  window.addEventListener("error", (e) => window.__kokasenErrors.push(String(e.message || e.type)), true);
  window.addEventListener("unhandledrejection", (e) => window.__kokasenErrors.push(String(e.reason)));
  document.addEventListener("securitypolicyviolation", (e) => window.__kokasenErrors.push("CSP " + e.violatedDirective));
  const original = console.error;
  console.error = (...args) => { window.__kokasenErrors.push(args.join(" ")); original.apply(console, args); };
}
"""


def _fail(message: str):
    import pytest

    pytest.fail(message)


def _require(path: Path, package: str):
    if not path.exists():
        _fail(f"{path} is missing: the three-engine tests need Debian's {package} package (`make test` installs it)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate, what: str):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    _fail(f"timed out waiting for {what}")


class Driver:
    name = ""
    width = 0

    def open(self, url: str) -> None:
        raise NotImplementedError

    def js(self, expression: str):
        """The value of a JavaScript expression in the page."""
        raise NotImplementedError

    def click(self, selector: str) -> None:
        raise NotImplementedError

    def type(self, selector: str, text: str) -> None:
        raise NotImplementedError

    def screenshot(self, path: Path) -> None:
        raise NotImplementedError

    def console_errors(self) -> list[str]:
        raise NotImplementedError

    def wait_for(self, expression: str, what: str = ""):
        return _wait(lambda: self.js(expression), what or expression)


# --------------------------------------------------------------------------- Chromium


class ChromiumDriver(Driver):
    name = "chromium"

    def __init__(self, browser, width: int):
        self.width = width
        self.context = browser.new_context(viewport={"width": width, "height": HEIGHT}, locale="ja-JP")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, url):
        self.page.goto(url)

    def js(self, expression):
        return self.page.evaluate(f"() => ({expression})")

    def click(self, selector):
        self.page.click(selector)

    def type(self, selector, text):
        self.page.fill(selector, text)

    def screenshot(self, path):
        self.page.screenshot(path=str(path), full_page=True)

    def console_errors(self):
        return list(self.errors)


# --------------------------------------------------------------------------- Firefox (Marionette)


class Marionette:
    """The Marionette wire protocol: ``len:json`` frames, commands ``[0, id, name, params]``."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.reader = self.sock.makefile("rb")
        self.next_id = 0
        self._read()  # the greeting

    def _read(self):
        size = b""
        while (byte := self.reader.read(1)) != b":":
            if not byte:
                _fail("Firefox closed the Marionette connection")
            size += byte
        return json.loads(self.reader.read(int(size)))

    def __call__(self, name: str, **params):
        self.next_id += 1
        body = json.dumps([0, self.next_id, name, params]).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body)
        _, _, error, result = self._read()
        if error:
            raise RuntimeError(f"Marionette {name}: {error.get('error')}: {error.get('message')}")
        return (result or {}).get("value", result)

    def close(self):
        self.sock.close()


class FirefoxDriver(Driver):
    name = "firefox"

    def __init__(self, marionette: Marionette, width: int):
        self.m = marionette
        self.width = width
        self.m("Marionette:SetContext", value="chrome")
        self.m(
            "WebDriver:ExecuteScript",
            script="""const [w, h] = arguments; const b = gBrowser.selectedBrowser;
                for (const p of ["width", "min-width", "max-width"]) b.style.setProperty(p, w + "px");
                b.style.setProperty("height", h + "px");""",
            args=[width, HEIGHT],
        )
        self.m(
            "WebDriver:ExecuteScript",
            script="""Services.console.reset();
                Cc["@mozilla.org/consoleAPI-storage;1"].getService(Ci.nsIConsoleAPIStorage).clearEvents();""",
            args=[],
        )
        self.m("Marionette:SetContext", value="content")

    def open(self, url):
        self.m("WebDriver:Navigate", url=url)

    def js(self, expression):
        return self.m("WebDriver:ExecuteScript", script=f"return ({expression});", args=[])

    def _element(self, selector):
        return self.m("WebDriver:FindElement", using="css selector", value=selector)[ELEMENT]

    def click(self, selector):
        self.m("WebDriver:ElementClick", id=self._element(selector))

    def type(self, selector, text):
        element = self._element(selector)
        self.m("WebDriver:ElementClear", id=element)
        self.m("WebDriver:ElementSendKeys", id=element, text=text)

    def screenshot(self, path):
        path.write_bytes(base64.b64decode(self.m("WebDriver:TakeScreenshot", full=True)))

    def console_errors(self):
        self.m("Marionette:SetContext", value="chrome")
        try:
            return self.m(
                "WebDriver:ExecuteScript",
                script="""
                const errors = [];
                for (const m of Services.console.getMessageArray()) {
                  if (m instanceof Ci.nsIScriptError && !(m.flags & Ci.nsIScriptError.warningFlag)
                      && !m.isFromChromeContext && /^https?:/.test(m.sourceName || "")) {
                    errors.push(m.errorMessage + " " + m.sourceName);
                  }
                }
                const storage = Cc["@mozilla.org/consoleAPI-storage;1"].getService(Ci.nsIConsoleAPIStorage);
                for (const e of storage.getEvents()) {
                  if (e.level === "error" && /^https?:/.test(e.filename || "")) {
                    errors.push("console.error " + JSON.stringify(e.arguments) + " " + e.filename);
                  }
                }
                return errors;""",
                args=[],
            )
        finally:
            self.m("Marionette:SetContext", value="content")


@contextmanager
def _firefox() -> Iterator[Marionette]:
    _require(FIREFOX, "firefox-esr")
    profile = Path(tempfile.mkdtemp(prefix="kokasen-firefox-"))
    (profile / "user.js").write_text(
        'user_pref("marionette.port", 0);\n'
        'user_pref("browser.shell.checkDefaultBrowser", false);\n'
        'user_pref("datareporting.policy.dataSubmissionEnabled", false);\n'
        'user_pref("intl.accept_languages", "ja");\n'
    )
    process = subprocess.Popen(
        [
            str(FIREFOX),
            "--headless",
            "--marionette",
            "-remote-allow-system-access",
            "--no-remote",
            "--profile",
            str(profile),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    marionette = None
    try:
        port_file = profile / "MarionetteActivePort"
        port = _wait(lambda: port_file.exists() and port_file.read_text().strip(), "Firefox's Marionette port")
        marionette = Marionette(int(port))
        marionette("WebDriver:NewSession", strictFileInteractability=True)
        yield marionette
    finally:
        if marionette:
            marionette.close()
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(profile, ignore_errors=True)


# --------------------------------------------------------------------------- WebKitGTK (WebDriver)


class WebDriverSession:
    """W3C WebDriver over HTTP with urllib."""

    def __init__(self, base: str, capabilities: dict):
        self.base = base
        self.session = self.request("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})["sessionId"]

    def request(self, method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path, method=method, data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"WebDriver {method} {path}: {error.read()[:500]!r}") from None

    def __call__(self, method: str, path: str, body=None):
        return self.request(method, f"/session/{self.session}{path}", body)

    def close(self):
        self.request("DELETE", f"/session/{self.session}")


class WebKitDriver(Driver):
    name = "webkit"

    def __init__(self, session: WebDriverSession, width: int):
        self.s = session
        # The window's rect includes its frame: size it so that the page's viewport has the width.
        self.s("POST", "/url", {"url": "about:blank"})
        rect = self.s("POST", "/window/rect", {"width": width, "height": HEIGHT})
        frame = rect["width"] - self.js("window.innerWidth")
        if frame:
            self.s("POST", "/window/rect", {"width": width + frame, "height": HEIGHT})
        self.width = self.js("window.innerWidth")

    def open(self, url):
        self.s("POST", "/url", {"url": url})
        self.s("POST", "/execute/sync", {"script": COLLECTOR, "args": []})

    def js(self, expression):
        return self.s("POST", "/execute/sync", {"script": f"return ({expression});", "args": []})

    def _element(self, selector):
        return self.s("POST", "/element", {"using": "css selector", "value": selector})[ELEMENT]

    def _interact(self, selector, *commands):
        """Centre the element at once, then send it the commands. The site scrolls smoothly
        (base.css) and opens menus with a transition: WebKitWebDriver then finds the element mid-way
        and reports it not interactable, so the commands are tried again for a few seconds, as a
        user would wait for the page to settle."""
        deadline = time.monotonic() + 5
        while True:
            element = self._element(selector)
            self.s(
                "POST",
                "/execute/sync",
                {
                    "script": "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})",
                    "args": [{ELEMENT: element}],
                },
            )
            try:
                for command, body in commands:
                    self.s("POST", f"/element/{element}/{command}", body)
                return
            except RuntimeError as error:
                if "element not interactable" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def click(self, selector):
        self._interact(selector, ("click", {}))

    def type(self, selector, text):
        self._interact(selector, ("clear", {}), ("value", {"text": text}))

    def screenshot(self, path):
        path.write_bytes(base64.b64decode(self.s("GET", "/screenshot")))

    def console_errors(self):
        return self.js("window.__kokasenErrors || []")


@contextmanager
def _webkit() -> Iterator[WebDriverSession]:
    _require(WEBKIT_DRIVER, "webkit2gtk-driver")
    _require(MINIBROWSER, "webkit2gtk-driver (libwebkit2gtk-4.1's MiniBrowser)")
    _require(XVFB, "xvfb")
    display = f":{_free_port() % 1000 + 100}"
    xvfb = subprocess.Popen(
        [str(XVFB), display, "-screen", "0", "1600x1200x24", "-nolisten", "tcp"], stderr=subprocess.DEVNULL
    )
    port = _free_port()
    driver = subprocess.Popen(
        [str(WEBKIT_DRIVER), f"--port={port}"],
        env={**os.environ, "DISPLAY": display},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    session = None
    try:

        def listening():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False

        _wait(listening, "WebKitWebDriver")
        session = WebDriverSession(
            f"http://127.0.0.1:{port}",
            {"webkitgtk:browserOptions": {"binary": str(MINIBROWSER), "args": ["--automation"]}},
        )
        yield session
    finally:
        if session:
            session.close()
        driver.terminate()
        driver.wait(timeout=30)
        xvfb.terminate()
        xvfb.wait(timeout=30)


# --------------------------------------------------------------------------- one entry point


@contextmanager
def engine(name: str) -> Iterator:
    """Start one engine; yields ``make(width) -> Driver`` (a fresh tab/context per width where
    the engine allows, otherwise the same window resized)."""
    if name == "chromium":
        from .browser import chromium

        with chromium() as browser:
            drivers = []
            try:
                yield lambda width: drivers.append(ChromiumDriver(browser, width)) or drivers[-1]
            finally:
                for driver in drivers:
                    driver.context.close()
    elif name == "firefox":
        with _firefox() as marionette:
            yield lambda width: FirefoxDriver(marionette, width)
    elif name == "webkit":
        with _webkit() as session:
            yield lambda width: WebKitDriver(session, width)
    else:
        raise ValueError(name)
