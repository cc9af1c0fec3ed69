"""Two uvicorn workers posting at once: one writer at a time, every post findable afterwards,
and no lock errors. Runs the real `kindred serve --workers 2` on a free port."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import PASSWORD

KINDRED = Path(sys.executable).parent / "kindred"
POSTS_PER_PERSON = 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)


def _serve(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [str(KINDRED), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _log(path: Path) -> str:
    return path.read_text()


async def _wait_until_answering(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(400):  # 20 s
            assert server.poll() is None, _log(log)
            try:
                if (await http.get(f"{url}/api/v1/communities", timeout=1)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"kindred serve did not answer:\n{_log(log)}")


async def test_two_workers_posting_at_once_lose_nothing(settings, member, other_member, community):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {name: value for name, value in os.environ.items() if not name.startswith("KINDRED_")}
    env.update(
        KINDRED_DATA_DIR=str(settings.data_dir),
        KINDRED_DATABASE_URL=settings.database_url,
        KINDRED_SEARCH=settings.search_backend,
        KINDRED_SECRET_KEY="test-secret-key-not-for-production",
    )
    log_path = settings.data_dir / "server.log"
    server = await asyncio.to_thread(_serve, env, port, log_path)
    try:
        await _wait_until_answering(url, server, log_path)
        limits = httpx.Limits(max_keepalive_connections=0)  # new connections: both workers serve
        async with httpx.AsyncClient(base_url=url, timeout=20, limits=limits) as http:
            headers = {}
            for person in (member, other_member):
                answer = await http.post(
                    "/api/v1/auth/token",
                    json={"username": person["username"], "password": PASSWORD},
                )
                assert answer.status_code == 200, answer.text
                headers[person["username"]] = {"Authorization": f"Bearer {answer.json()['token']}"}

            async def post(username: str, n: int) -> tuple[str, int, float]:
                word = f"quokka{username.replace('_', '')}{n}"
                answer = await http.post(
                    "/api/v1/communities/celiac/threads",
                    json={"title": f"Question {n} from {username}", "body": f"About {word}."},
                    headers=headers[username],
                )
                assert answer.status_code == 201, answer.text
                return word, answer.json()["id"], time.monotonic()

            posted = await asyncio.gather(
                *(
                    post(person["username"], n)
                    for n in range(POSTS_PER_PERSON)
                    for person in (member, other_member)
                )
            )
            slowest = 0.0
            for word, thread_id, at in posted:
                while True:
                    found = (await http.get("/api/v1/search", params={"q": word})).json()
                    if [item["id"] for item in found["items"]] == [thread_id]:
                        slowest = max(slowest, time.monotonic() - at)
                        break
                    assert time.monotonic() - at < 5, f"{word} not findable:\n{_log(log_path)}"
                    await asyncio.sleep(0.05)
            everything = (await http.get("/api/v1/search", params={"q": "question"})).json()
            assert everything["total"] == 2 * POSTS_PER_PERSON
    finally:
        await asyncio.to_thread(_stop, server)
    text = _log(log_path)
    assert "LockError" not in text and "Traceback" not in text, text
    assert "2 worker(s)" in text
    assert text.count("Application startup complete") == 2, text
