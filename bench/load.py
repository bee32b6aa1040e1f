"""Open-loop load at a fixed rate, and the figures drawn from it.

Request i is due at start + i / rate whatever the server does: a slow answer cannot hold the next
request back (no coordinated omission), and latency counts from the moment a request was due, so
time it spent waiting for the generator itself is charged too, the same for every server.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

SLACK_LIMIT = 3.0  # seconds Slack waits for an ack


@dataclass(frozen=True)
class Request:
    kind: str  # "ask", "action" or "reply"
    key: str  # names the work it causes, to find that work in the database afterwards
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Sent:
    request: Request
    due_wall: float  # time.time() of the moment it was due, to compare with the stored rows' clocks
    latency: float | None  # seconds from due to the full answer; None when no answer came
    status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


@dataclass(frozen=True)
class Run:
    rate: int
    sent: list[Sent]
    lag: float  # the generator's own worst lateness in starting a request, seconds


async def offer(url: str, requests: Sequence[Request], rate: float, *, give_up: float = 10.0,
                fresh_connections: bool = False) -> Run:
    """POST every request to ``url`` on a fixed timetable of ``rate`` per second; waits for all answers.
    ``fresh_connections``: a new TCP connection per request, as from many senders, so that replicas
    sharing a port (SO_REUSEPORT spreads connections, not requests) each get their share."""
    loop = asyncio.get_running_loop()
    # No client-side queueing: concurrency is what the server makes it.
    connector = aiohttp.TCPConnector(limit=0, force_close=fresh_connections)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=give_up)) as session:
        start = loop.time() + 0.05
        wall_offset = time.time() - loop.time()
        tasks: list[asyncio.Task[Sent]] = []
        lag = 0.0

        async def send(request: Request, due: float) -> Sent:
            try:
                async with session.post(url, data=request.body, headers=request.headers) as response:
                    await response.read()
                    return Sent(request, due + wall_offset, loop.time() - due, response.status,
                                None if response.status == 200 else f"HTTP {response.status}")
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                return Sent(request, due + wall_offset, None, None, type(error).__name__)

        for i, request in enumerate(requests):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            lag = max(lag, loop.time() - due)
            tasks.append(asyncio.create_task(send(request, due)))
        return Run(int(rate), list(await asyncio.gather(*tasks)), lag)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class AckFigures:
    sent: int
    ok: int
    errors: int
    over_limit: int  # answered after Slack's 3 s, or not at all
    p50: float
    p99: float
    max: float

    @property
    def sustained(self) -> bool:
        """Every request acked with 200 within Slack's limit."""
        return self.errors == 0 and self.over_limit == 0


def ack_figures(run: Run) -> AckFigures:
    latencies = [s.latency for s in run.sent if s.latency is not None]
    over = sum(1 for s in run.sent if s.latency is None or s.latency > SLACK_LIMIT)
    ok = sum(1 for s in run.sent if s.ok)
    return AckFigures(len(run.sent), ok, len(run.sent) - ok, over, percentile(latencies, 50),
                      percentile(latencies, 99), max(latencies, default=math.nan))


def ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.0f}"
