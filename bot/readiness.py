"""GET /readyz: may a load balancer send this replica traffic? Database reachable, schema at the
migration head, delivery scheduler running, not shutting down, and, in Slack's Socket Mode, a
connection open (over the socket is the only way requests reach this replica then)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.migrate import database_revision, head_revision, known_revisions

log = logging.getLogger(__name__)

CHECK_SECONDS = 2.0  # a probe must answer quickly; a database slower than this counts as down


@dataclass
class Readiness:
    engine: AsyncEngine
    scheduler_running: Callable[[], bool]
    scheduler_expected: bool = True
    stopping: bool = False
    # "ok" while the Socket Mode connection is open, else why not; None when Slack is not in Socket Mode.
    socket_mode: Callable[[], str | None] = field(default=lambda: None)
    _last_ready: bool | None = None
    _head: str = field(default_factory=head_revision)
    _known: set[str] = field(default_factory=known_revisions)

    async def check(self) -> tuple[bool, dict[str, str]]:
        checks = {"database": "ok", "migrations": "ok", "scheduler": "ok", "shutdown": "no"}
        try:
            revision = await asyncio.wait_for(database_revision(self.engine), CHECK_SECONDS)
        except Exception as error:
            checks["database"] = f"unreachable ({type(error).__name__})"
            checks["migrations"] = "unknown"
        else:
            if revision is None or (revision != self._head and revision in self._known):
                checks["migrations"] = f"at {revision or 'none'}, head is {self._head}: run `vraagbot migrate`"
            elif revision != self._head:
                # A newer release migrated already (rolling update): migrations only add, so keep serving.
                checks["migrations"] = f"ok (database at {revision}, newer than this version's {self._head})"
        if not self.scheduler_expected:
            checks["scheduler"] = "off in this process"
        elif not self.scheduler_running():
            checks["scheduler"] = "not running"
        if (socket := self.socket_mode()) is not None:
            checks["socket_mode"] = socket
        if self.stopping:
            checks["shutdown"] = "in progress"
        ready = all(v in ("ok", "no", "off in this process") or v.startswith("ok (") for v in checks.values())
        return ready, checks

    async def handle(self, request: web.Request) -> web.Response:
        ready, checks = await self.check()
        if ready != self._last_ready:  # probes come every few seconds: log changes, not every answer
            self._last_ready = ready
            log.log(logging.INFO if ready else logging.WARNING, "readiness: %s: %s",
                    "ready" if ready else "not ready", ", ".join(f"{k}={v}" for k, v in checks.items()))
        return web.json_response({"status": "ready" if ready else "not ready", "checks": checks},
                                 status=200 if ready else 503)
