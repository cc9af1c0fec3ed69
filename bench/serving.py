"""Servers for the benchmark: started in their own process group, reached over 127.0.0.1 only."""

from __future__ import annotations

import difflib
import http.client
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HOST = "127.0.0.1"
SESSION_COOKIE = "kindred_session"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
START_TIMEOUT = 60.0
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name), "")

    def cookie(self, name: str) -> str | None:
        for header, value in self.headers:
            if header.lower() == "set-cookie" and value.startswith(name + "="):
                return value.split(";", 1)[0].split("=", 1)[1]
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(
    port: int,
    path: str,
    *,
    method: str = "GET",
    cookie: str | None = None,
    form: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One request to 127.0.0.1:port; redirects are returned, not followed."""
    headers = {"Host": f"{HOST}:{port}"}
    if cookie:
        headers["Cookie"] = f"{SESSION_COOKIE}={cookie}"
    body = None
    if form is not None:
        body = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Reply(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


class Server:
    """A server process in its own process group, logging to a file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.port = int(command[command.index("--port") + 1])
        self.log = log
        with log.open("wb") as handle:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, path: str) -> None:
        """Until the server answers `path` with anything; fails fast if it exits."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"{self.name} exited with {code}:\n{self.tail()}")
            try:
                fetch(self.port, path, timeout=2.0)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer in {START_TIMEOUT:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL if it is still there after 15 s."""
        if self.process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue


def sign_in(port: int, username: str, password: str, thread_id: int) -> str:
    """A session cookie got through the login form, as a browser does."""
    login = fetch(port, "/login")
    cookie = login.cookie(SESSION_COOKIE)
    match = CSRF_RE.search(login.text)
    if login.status != 200 or cookie is None or match is None:
        raise RuntimeError(f"GET /login gave {login.status} without a session cookie or CSRF token")
    form = {
        "username": username,
        "password": password,
        "csrf_token": match.group(1),
        "next": f"/t/{thread_id}",
    }
    posted = fetch(port, "/login", method="POST", cookie=cookie, form=form)
    cookie = posted.cookie(SESSION_COOKIE)
    if posted.status != 303 or cookie is None:
        raise RuntimeError(f"POST /login gave {posted.status}, not 303 with a session cookie")
    # The first page shows (and pops) the welcome notice: keep the cookie without it.
    first = fetch(port, f"/t/{thread_id}", cookie=cookie)
    return first.cookie(SESSION_COOKIE) or cookie


def signed_in_page(port: int, path: str, cookie: str) -> Reply:
    """The page as the signed-in reader gets it; fails on redirects and unsettled sessions."""
    page = fetch(port, path, cookie=cookie)
    if page.status != 200:
        location = page.header("location")
        hint = ": the session cookie was not accepted" if "/login" in location else ""
        raise RuntimeError(f"{path} answered {page.status} {location}{hint}")
    if page.cookie(SESSION_COOKIE) is not None:
        raise RuntimeError(f"{path} changes the session on every request: the cookie never settles")
    if 'action="/logout"' not in page.text:
        raise RuntimeError(f"{path} does not show a signed-in reader")
    return page


def compare_pages(app_html: str, ceiling_html: str) -> dict[str, Any]:
    """Both pages' sizes and how many lines differ ("3 minutes ago" may tick over)."""
    differing = [
        line
        for line in difflib.unified_diff(app_html.splitlines(), ceiling_html.splitlines(), n=0)
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]
    app_size, ceiling_size = len(app_html.encode()), len(ceiling_html.encode())
    return {
        "app_bytes": app_size,
        "ceiling_bytes": ceiling_size,
        "size_difference": abs(app_size - ceiling_size) / max(app_size, 1),
        "identical": app_html == ceiling_html,
        "differing_lines": len(differing),
        "sample": differing[:4],
    }
