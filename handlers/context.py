"""What every use case gets: the ports, the policy, and who is acting."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from handlers.models import normalise_locale
from handlers.ports import Catalog, Clock, Presence, UnitOfWorkFactory


@dataclass(frozen=True)
class Policy:
    default_locale: str = "nl"
    default_time_zone: str = "Europe/Amsterdam"
    min_group_size: int = 5  # team figures only for at least this many people (never below 5)
    team_nudge_admins_only: bool = False  # only workspace admins may change a channel's weekly nudge
    text_retention_days: int = 90  # question and reply texts are removed after this many days


async def _nothing() -> None:
    return None


async def _once(work: Callable[[], Awaitable[Any]]) -> Any:
    return await work()


@dataclass(frozen=True)
class Deps:
    uow: UnitOfWorkFactory
    clock: Clock
    presence: Presence
    catalog: Catalog
    policy: Policy = Policy()
    # Called after a use case queued messages in the outbox, so delivery starts at once
    # instead of at the next scheduler tick.
    on_queued: Callable[[], Awaitable[None]] = field(default=_nothing)
    # Runs a use case, again while the database is unreachable; raises StorageUnavailable when it
    # gives up. The composition root supplies one that knows the database's errors.
    retry: Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]] = field(default=_once)

    def locale_of(self, actor: Actor) -> str:
        """The actor's language as the platform gives it, or the default."""
        return normalise_locale(actor.locale, self.policy.default_locale)


@dataclass(frozen=True)
class Actor:
    """The person acting, as the platform identifies them."""

    platform: str  # "slack", "teams", "shell"
    workspace_external_id: str
    user_external_id: str
    handle: str | None = None
    display_name: str | None = None
    locale: str | None = None
    time_zone: str | None = None
    workspace_name: str | None = None
    is_admin: bool = False  # a workspace admin or owner, as far as the platform says
    channel: str | None = None  # the platform channel the command was given in, when it was one
    # With an org-wide install on Enterprise Grid, ``workspace_external_id`` is the org; this is the org's
    # workspace the person acts in, which is a team of its own for figures. '' everywhere else.
    org_workspace: str = ""
