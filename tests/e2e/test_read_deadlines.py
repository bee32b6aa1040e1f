"""Issue 11, finding 13: a client that sends its request head or body slowly is cut off instead of holding
a connection forever. Raw sockets against the real app (in process, and `vraagbot serve` as a process),
with the deadlines set to 1 s and 10 s or more of slack before a test gives up, so a busy machine does
not make them fail."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from tests.e2e.cli import VRAAGBOT
from tests.e2e.slack_bot import running_slack_bot
from tests.e2e.test_serve import free_port

GIVE_UP = 10.0  # seconds; the deadlines under test are 1 s
HALF_A_HEAD = b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlen"


@pytest.fixture
async def base_url(sqlite_database_url):
    async with running_slack_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1],
                                 http_header_seconds=1, http_body_seconds=1) as bot:
        yield bot.url


async def connect(base_url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    address = urlsplit(base_url)
    return await asyncio.open_connection(address.hostname, address.port)


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection; fails after GIVE_UP seconds."""
    try:
        return await asyncio.wait_for(reader.read(), GIVE_UP)
    except TimeoutError:
        raise AssertionError(f"the server still holds the connection after {GIVE_UP:.0f}s") from None


async def test_half_a_request_head_is_cut_off(base_url):
    reader, writer = await connect(base_url)
    writer.write(HALF_A_HEAD)
    await writer.drain()
    try:
        assert await read_until_closed(reader) == b""  # closed, nothing answered
    finally:
        writer.close()


async def test_a_head_that_keeps_trickling_in_is_cut_off_all_the_same(base_url):
    """Bytes arriving do not move the deadline: it counts from the connection, not from the last byte."""
    reader, writer = await connect(base_url)

    async def trickle() -> None:
        with contextlib.suppress(ConnectionError):
            for i in range(10_000):
                writer.write(f"X-Slow-{i}: y\r\n".encode())
                await writer.drain()
                await asyncio.sleep(0.2)

    writer.write(HALF_A_HEAD + b"\r\n")
    sender = asyncio.create_task(trickle())
    try:
        assert await read_until_closed(reader) == b""
    finally:
        sender.cancel()
        writer.close()


async def test_a_connection_that_sends_nothing_is_closed(base_url):
    reader, writer = await connect(base_url)
    try:
        assert await read_until_closed(reader) == b""
    finally:
        writer.close()


async def test_a_slow_body_gets_408_and_the_connection_is_closed(base_url):
    reader, writer = await connect(base_url)
    writer.write(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n" + b'{"type": "')  # 10 of the 100 bytes promised
    await writer.drain()
    try:
        answer = await read_until_closed(reader)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]


async def test_requests_sent_in_time_are_answered_on_the_same_connection(base_url):
    reader, writer = await connect(base_url)
    try:
        for _ in range(3):
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), GIVE_UP)
            assert head.startswith(b"HTTP/1.1 200 "), head
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            await reader.readexactly(length)
    finally:
        writer.close()


def test_vraagbot_serve_applies_the_deadlines_and_keeps_metrics_off_the_public_port(tmp_path):
    """The real command: web.run_app's own keep-alive default (75 s) must not win over the setting, and
    metrics are only on their own loopback port."""
    port, metrics_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRAAGBOT_", "SLACK_", "MICROSOFT_"))}
    env |= {"VRAAGBOT_HTTP_HEADER_SECONDS": "1", "VRAAGBOT_METRICS_PORT": str(metrics_port)}
    process = subprocess.Popen([VRAAGBOT, "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=tmp_path,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until_answering(process, f"http://127.0.0.1:{port}/healthz")
        assert status_of(f"http://127.0.0.1:{port}/metrics") == 404
        assert status_of(f"http://127.0.0.1:{metrics_port}/metrics") == 200
        reader_done = asyncio.run(half_a_head_then_wait(port))
        assert reader_done == b""
    finally:
        process.terminate()
        process.wait(timeout=30)


async def half_a_head_then_wait(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HALF_A_HEAD)
    await writer.drain()
    try:
        return await read_until_closed(reader)
    finally:
        writer.close()


def wait_until_answering(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            time.sleep(0.2)
    raise AssertionError("vraagbot serve did not answer within 60 s")


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
