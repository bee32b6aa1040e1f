"""Prometheus metrics, on a listener of their own (VRAAGBOT_METRICS_PORT, 127.0.0.1 by default, an
optional bearer token): the public port never serves them.

Counters and the latency histogram are per process (Prometheus sums the replicas); the question and
outbox gauges are read from the shared database at scrape time, so every replica reports the same
whole-installation figures (use max(), not sum(), across them). No series follows from a verdict on
one reply or question (curt, confirmed, werk or gunst): polling them must not tell anyone how a reply
was judged (privacy rules in docs/architecture.md). What is left out and why: storage/stats.py."""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from storage.stats import read_counts

log = logging.getLogger(__name__)

REQUESTS = Counter("vraagbot_requests", "Incoming platform requests by platform and outcome",
                   ["platform", "outcome"])
ACK_SECONDS = Histogram("vraagbot_ack_seconds", "Time from receiving a platform request to answering it",
                        ["platform"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0))
RATE_LIMITED = Counter("vraagbot_web_api_rate_limited", "HTTP 429 answers from the Slack Web API or Bot Connector",
                       ["platform"])
QUESTIONS = Gauge("vraagbot_questions", "Stored questions")
OUTBOX = Gauge("vraagbot_outbox_messages", "Outbox rows by status (pending, sent, failed, skipped) and kind; "
               "nudges and tag notices are not counted", ["status", "kind"])
INBOX_WAITING = Gauge("vraagbot_inbox_waiting", "Acknowledged platform requests waiting for a worker (or running)")
INBOX_OLDEST = Gauge("vraagbot_inbox_oldest_seconds", "How long the oldest waiting request has waited; 0 when none")
SCRAPE_ERRORS = Counter("vraagbot_metrics_database_errors", "Scrapes that could not read the database counts")

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def outcome_of(status: int) -> str:
    if status < 400:
        return "ok"
    return "refused" if status < 500 else "error"


def observe_request(platform: str, status: int, seconds: float) -> None:
    REQUESTS.labels(platform, outcome_of(status)).inc()
    ACK_SECONDS.labels(platform).observe(seconds)


def rate_limited(platform: str) -> None:
    RATE_LIMITED.labels(platform).inc()


def _set_all(gauge: Gauge, values: dict) -> None:
    gauge.clear()  # a status that disappeared must not keep its last value
    for labels, value in values.items():
        gauge.labels(*(labels if isinstance(labels, tuple) else (labels,))).set(value)


async def refresh_database_gauges(engine: AsyncEngine) -> None:
    try:
        counts = await read_counts(engine)
    except Exception as error:  # the database is down: still serve the process metrics
        SCRAPE_ERRORS.inc()
        log.warning("metrics: database counts unavailable: %s", type(error).__name__)
        return
    QUESTIONS.set(counts.questions)
    INBOX_WAITING.set(counts.inbox_waiting)
    oldest = counts.inbox_oldest
    INBOX_OLDEST.set(max(0.0, (datetime.now(UTC) - oldest).total_seconds()) if oldest else 0.0)
    _set_all(OUTBOX, counts.outbox_by_status_and_kind)


def metrics_app(engine: AsyncEngine, token: str | None, header_seconds: float) -> web.Application:
    """GET /metrics and nothing else; with a token, only for ``Authorization: Bearer <token>``."""
    expected = f"Bearer {token}".encode() if token else None

    async def metrics(request: web.Request) -> web.Response:
        offered = request.headers.get("Authorization", "").encode("utf-8", "replace")  # any bytes: no 500
        if expected is not None and not hmac.compare_digest(offered, expected):
            return web.Response(status=401, text="a bearer token is required\n",
                                headers={"WWW-Authenticate": 'Bearer realm="vraagbot metrics"'})
        await refresh_database_gauges(engine)
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application(client_max_size=1024, handler_args={"keepalive_timeout": header_seconds})
    app.router.add_get("/metrics", metrics)
    return app


class MetricsListener:
    """A cleanup context for the public app: serves metrics_app on VRAAGBOT_METRICS_HOST:PORT while the
    app runs, and not at all without a port. ``url`` is where it listens, once it does."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine, self._settings = engine, settings
        self.url: str | None = None

    async def __call__(self, _app: web.Application) -> AsyncIterator[None]:
        settings = self._settings
        if settings.metrics_port is None:
            yield
            return
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        runner = web.AppRunner(metrics_app(self._engine, token, settings.http_header_seconds), access_log=None)
        await runner.setup()
        host, port = settings.metrics_host, settings.metrics_port
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:  # the bot itself still works: say so once, clearly
            log.error("metrics: cannot listen on %s:%s (%s); metrics are off", host, port, error.strerror or error)
            await runner.cleanup()
            yield
            return
        self.url = f"http://{host}:{port}/metrics"
        log.info("metrics on %s%s", self.url, " (bearer token required)" if token else "")
        if token is None and host not in LOOPBACK_HOSTS:
            log.warning("metrics: listening on %s without VRAAGBOT_METRICS_TOKEN: anyone who can reach that "
                        "address can read them", host)
        try:
            yield
        finally:
            self.url = None
            await runner.cleanup()
