"""A fake Slack Web API with Slack's posting limits, for the fan-out benchmark.

chat.postMessage is checked the way Slack documents (docs/architecture.md) Slack's "special" tier:
- workspace-wide: a token bucket of ``per_minute`` calls a minute with ``burst`` calls of head room;
  a call beyond it gets 429 with the whole seconds until the next token as Retry-After, and does
  not count (Slack counts calls to a method, not messages, so every other call does);
- per channel: one message a second; a second post within that second gets 429, Retry-After: 1;
- noise: a share ``inject`` of the calls that pass both checks still gets 429 (Retry-After
  ``retry_after``), as Slack may answer under its own load. Those calls did count.
Accepted posts are kept per channel, so duplicates and missing channels can be counted.
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

from aiohttp import web

from tests.e2e.fake_slack import FakeSlack

RATELIMITED = {"ok": False, "error": "ratelimited"}


@dataclass
class PostStats:
    accepted: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # channel -> times
    workspace_limited: int = 0  # 429: beyond the workspace-wide allowance
    channel_limited: int = 0  # 429: a second post to one channel within a second
    injected: int = 0  # 429: noise on a call that was within the limits

    def accepted_times(self) -> list[float]:
        return sorted(t for times in self.accepted.values() for t in times)


class LimitedSlack(FakeSlack):
    def __init__(self, *, per_minute: float, burst: int, inject: float, retry_after: int, seed: int = 7) -> None:
        super().__init__()
        self.rate = per_minute / 60.0
        self.burst = burst
        self.inject = inject
        self.retry_after = retry_after
        self.stats = PostStats()
        self._tokens = float(burst)
        self._refilled = time.monotonic()
        self._last_post: dict[str, float] = {}
        self._random = random.Random(seed)

    def _take_token(self) -> float:
        """0 when a call may go ahead (and is counted), else the seconds until one may."""
        now = time.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._refilled) * self.rate)
        self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] != "chat.postMessage":
            return await super()._handle_api(request)
        args = await self._read_args(request)
        channel = str(args.get("channel", ""))
        wait = self._take_token()
        if wait > 0:
            self.stats.workspace_limited += 1
            return self._limited(max(1, math.ceil(wait)))
        now = time.monotonic()
        if now - self._last_post.get(channel, -math.inf) < 1.0:
            self.stats.channel_limited += 1
            return self._limited(1)
        if self._random.random() < self.inject:
            self.stats.injected += 1
            return self._limited(self.retry_after)
        self._last_post[channel] = now
        self.stats.accepted[channel].append(time.time())
        return web.json_response(self._api_chat_postMessage(args))

    @staticmethod
    def _limited(seconds: int) -> web.Response:
        return web.json_response(RATELIMITED, status=429, headers={"Retry-After": str(seconds)})
