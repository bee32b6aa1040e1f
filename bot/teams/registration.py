"""Teams to the runtime (the Platform protocol of bot/platforms.py): a thin wrapper around
TeamsPlatform, which keeps serving /api/messages as before."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.platforms import Route
from bot.settings import Settings
from bot.teams.messenger import TeamsMessenger
from bot.teams.platform import TeamsPlatform, teams_parts, teams_platform
from handlers.context import Deps
from handlers.ports import Catalog, Presence, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass
class TeamsRegistration:
    teams: TeamsPlatform
    name = "teams"
    # Graph presence (bot/teams/presence.py), or None when it is off or there is no app secret.
    presence: Presence | None = None

    @property
    def messenger(self) -> TeamsMessenger:
        return self.teams.parts.messenger

    def routes(self) -> list[Route]:
        return [Route("POST", "/api/messages", self.teams.handle)]

    async def start(self) -> None:
        if not self.teams.authenticated:
            # Said when the endpoint opens, not when a runtime is built (the shell builds one too).
            log.warning("teams: VRAAGBOT_TEAMS_LOCAL_TESTING is on and MICROSOFT_APP_ID is not set, so /api/messages "
                        "accepts UNAUTHENTICATED requests (for the Bot Framework Emulator and local tests on a "
                        "loopback host, never for production)")

    async def stop(self) -> None:
        """Nothing to stop: every turn runs inside its request, which the web server finishes."""

    async def close(self) -> None:
        """The connector clients belong to botbuilder's adapter; Graph's connections are ours."""
        if self.teams.parts.presence is not None:
            await self.teams.parts.presence.close()
        await self.teams.bot.owners.close()  # team roles (bot/teams/roster.py)


def teams_registration(settings: Settings, deps: Deps, uow: UnitOfWorkFactory, catalog: Catalog) -> TeamsRegistration:
    parts = teams_parts(settings, uow, catalog)
    return TeamsRegistration(teams_platform(settings, deps, parts), presence=parts.presence)
