"""Prometheus metrics. Counters and the latency histogram are per process (Prometheus sums the
replicas); the question, signal and outbox gauges are read from the shared database at scrape time,
so every replica reports the same whole-installation figures (use max(), not sum(), across them)."""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.stats import read_counts

log = logging.getLogger(__name__)

REQUESTS = Counter("vraagbot_requests", "Incoming platform requests by platform and outcome",
                   ["platform", "outcome"])
ACK_SECONDS = Histogram("vraagbot_ack_seconds", "Time from receiving a platform request to answering it",
                        ["platform"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0))
RATE_LIMITED = Counter("vraagbot_web_api_rate_limited", "HTTP 429 answers from the Slack Web API or Bot Connector",
                       ["platform"])
QUESTIONS = Gauge("vraagbot_questions", "Stored questions by werk/gunst tag", ["tag"])
SIGNALS = Gauge("vraagbot_signals", "Stored signals by kind", ["kind"])
OUTBOX = Gauge("vraagbot_outbox_messages", "Outbox rows by status (pending, sent, failed, skipped) and kind",
               ["status", "kind"])
SCRAPE_ERRORS = Counter("vraagbot_metrics_database_errors", "Scrapes that could not read the database counts")


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
    gauge.clear()  # a tag or status that disappeared must not keep its last value
    for labels, value in values.items():
        gauge.labels(*(labels if isinstance(labels, tuple) else (labels,))).set(value)


async def refresh_database_gauges(engine: AsyncEngine) -> None:
    try:
        counts = await read_counts(engine)
    except Exception as error:  # the database is down: still serve the process metrics
        SCRAPE_ERRORS.inc()
        log.warning("metrics: database counts unavailable: %s", type(error).__name__)
        return
    _set_all(QUESTIONS, counts.questions_by_tag)
    _set_all(SIGNALS, counts.signals_by_kind)
    _set_all(OUTBOX, counts.outbox_by_status_and_kind)


def metrics_handler(engine: AsyncEngine):
    async def metrics(request: web.Request) -> web.Response:
        await refresh_database_gauges(engine)
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return metrics
