"""Settings from environment variables (prefix VRAAGBOT_) and an optional .env file."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.teams.service_urls import DEFAULT_SERVICE_URLS, ServiceUrls

MIN_GROUP_SIZE_FLOOR = 5  # never lower than 5 (privacy rules, docs/architecture.md)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VRAAGBOT_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///vraagbot.db",
        description="SQLAlchemy URL: sqlite:///path/file.db (default, in the working directory) "
        "or postgresql://user:password@host:5432/db",
    )
    default_language: str = Field(default="nl", description="nl or en: for people whose platform gives no language")
    default_time_zone: str = Field(
        default="Europe/Amsterdam",
        description="IANA time zone, e.g. Europe/Amsterdam: for people whose platform gives none, and the zone "
        "every team's weeks (Monday 00:00 to Monday 00:00) run in",
    )
    min_group_size: int = Field(
        default=5, description="smallest group whose curt-reply figures may be shown; 5 or more"
    )
    text_retention_days: int = Field(
        default=90, description="days question and reply texts are kept; signals and counts stay"
    )
    outbox_tick_seconds: float = Field(default=5.0, description="how often queued messages are checked, seconds")
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_format: Literal["json", "text"] | None = Field(
        default=None, description="json: one JSON object per line (for log collectors); text: for reading by eye. "
        "Unset: text when standard error is a terminal, json otherwise",
    )
    shutdown_seconds: float = Field(
        default=25.0, gt=0, le=600, description="on SIGTERM: how long to finish open requests, running work and the "
        "current send before exiting; unsent messages stay queued (keep it under your orchestrator's kill timeout)",
    )
    # Weekly nudges (issue 5)
    nudge_grace_hours: float = Field(
        default=6.0, ge=0, description="weekly messages due while the bot was down go out when it is back within "
        "this many hours, and are skipped (with a log line) after that",
    )
    nudge_plan_seconds: float = Field(
        default=60.0, gt=0, description="how often each replica checks which weekly messages are due, seconds",
    )
    team_nudge_admins_only: bool = Field(
        default=False, description="true: only workspace admins may set or stop a channel's weekly message",
    )
    outbox_concurrency: int = Field(
        default=8, ge=1, le=100, description="how many queued messages one replica sends at the same time, so a "
        "rate-limited or slow recipient does not hold up the others",
    )
    outbox_lease_seconds: float = Field(
        default=120.0, ge=10, description="how long a claimed outbox message is reserved for the sending replica; "
        "after a crash it is sent again once this has passed",
    )
    outbox_lookup_seconds: float = Field(
        default=60.0, ge=1, le=600, description="how long the outbox keeps asking Slack whether a message whose "
        "send was cut off arrived after all, before it sends it anyway (at most half the lease)",
    )
    db_retry_seconds: float = Field(
        default=30.0, ge=0, le=600, description="how long a request waits for an unreachable database (a restart) "
        "before the person is told that nothing was saved",
    )
    # The request path (issue 12): acknowledged requests wait in the inbox table, a bounded pool works them.
    inbox_workers: int = Field(
        default=4, ge=1, le=64, description="how many stored Slack requests one replica works on at the same time; "
        "the rest wait in the inbox table, so a burst never slows the acknowledgements",
    )
    inbox_lease_seconds: float = Field(
        default=15.0, ge=5, le=3600, description="how long a claimed inbox request is reserved for the replica "
        "working on it; after a crash another replica (or the restarted one) runs it once this has passed (a "
        "request's work takes well under a second; one still running then is run elsewhere, and only one of the "
        "two runs is kept)",
    )
    inbox_busy_seconds: float = Field(
        default=5.0, ge=1, le=600, description="when the oldest waiting request is older than this, someone whose "
        "request is queued behind it is told once that it is busy and their request is safe",
    )
    teams_concurrency: int = Field(
        default=16, ge=1, le=256, description="how many Teams activities one replica works on at the same time; "
        "more wait for a free slot",
    )
    # Read deadlines (issue 11, finding 13): a slow client cannot hold a connection.
    http_header_seconds: float = Field(
        default=15.0, gt=0, le=300, description="a client must send a complete request head within this many "
        "seconds of connecting or of its previous answer, or the connection is closed (so an idle keep-alive "
        "connection closes then too: keep a load balancer's idle timeout below it)",
    )
    http_body_seconds: float = Field(
        default=15.0, gt=0, le=300, description="a client must send a request's body within this many seconds of "
        "its head, or gets 408 and the connection is closed",
    )
    # Metrics (issue 11, finding 8): never on the public port.
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535, description="port of a separate listener for Prometheus GET /metrics; unset: "
        "no metrics. The public port never serves /metrics",
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="interface the metrics listener binds to; the default is reachable from "
        "this machine only. For a scraper elsewhere (0.0.0.0) also set VRAAGBOT_METRICS_TOKEN",
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="when set, /metrics answers only requests with the header Authorization: Bearer "
        "<token> (16 characters or more), others get 401",
    )

    # Slack: the standard variable names, without our prefix. No token: Slack is off.
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias="SLACK_BOT_TOKEN", description="bot token (xoxb-...); turns Slack on"
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET",
        description="signing secret; required without SLACK_APP_TOKEN: every request to /slack/events is checked "
        "with it (no setting turns that off)",
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias="SLACK_APP_TOKEN",
        description="app-level token (xapp-...): use Socket Mode, and serve no HTTP route for Slack at all",
    )
    slack_posts_per_minute: float = Field(
        default=300.0, gt=0, description="chat.postMessage calls one replica makes per minute at most; Slack allows "
        "several hundred per workspace (split it over the replicas)",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", validation_alias="SLACK_API_URL",
        description="Slack Web API base URL (tests and local runs point it at a fake)",
    )
    # Slack OAuth distribution (issue 16): installed into any number of workspaces instead of SLACK_BOT_TOKEN.
    slack_client_id: str | None = Field(
        default=None, validation_alias="SLACK_CLIENT_ID",
        description="the app's client id: turns on OAuth distribution (/slack/install, /slack/oauth_redirect; each "
        "workspace's tokens stored encrypted in the database) instead of SLACK_BOT_TOKEN",
    )
    slack_client_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_CLIENT_SECRET", description="the app's client secret (OAuth)",
    )
    slack_redirect_uri: str | None = Field(
        default=None, validation_alias="SLACK_REDIRECT_URI",
        description="https://<your host>/slack/oauth_redirect, as under OAuth & Permissions; needed when the app "
        "lists more than one redirect URL",
    )
    slack_token_key: SecretStr | None = Field(
        default=None, description="with SLACK_CLIENT_ID: the key the stored Slack tokens are encrypted with (a "
        "Fernet key, see README). To change it, put the new key first and the old one after, "
        "comma-separated, start once, then drop the old one",
    )

    # Microsoft Teams (Bot Framework). No app id and no local-testing switch: Teams is off, no /api/messages.
    microsoft_app_id: str | None = Field(
        default=None, validation_alias="MICROSOFT_APP_ID",
        description="the bot's Microsoft app id; turns Teams on: /api/messages, every request authenticated "
        "(without it, and without VRAAGBOT_TEAMS_LOCAL_TESTING, there is no /api/messages)",
    )
    microsoft_app_password: SecretStr | None = Field(
        default=None, validation_alias="MICROSOFT_APP_PASSWORD", description="the app's client secret",
    )
    microsoft_app_tenant_id: str | None = Field(
        default=None, validation_alias="MICROSOFT_APP_TENANT_ID", description="tenant id (SingleTenant apps)",
    )
    microsoft_app_type: str = Field(
        default="MultiTenant", validation_alias="MICROSOFT_APP_TYPE",
        description="MultiTenant, SingleTenant or UserAssignedMSI",
    )
    teams_local_testing: bool = Field(
        default=False, description="true: unauthenticated /api/messages for the Bot Framework Emulator and local "
        "tests; only on a loopback host (vraagbot serve refuses it unless --host is 127.0.0.1, ::1 or localhost)",
    )
    teams_service_urls: str = Field(
        default=",".join(DEFAULT_SERVICE_URLS), description="the only Bot Framework service URLs the bot contacts, "
        "comma-separated origins (https://host[:port], exact hosts, any path); an activity naming another serviceUrl "
        "is refused and nothing is sent there. Default: Microsoft's Teams hosts (public, GCC, GCC High, DoD, "
        "China). http only for a local fake or the Emulator on 127.0.0.1",
    )
    teams_tenants: str = Field(
        default="", description="comma-separated Microsoft tenant ids whose Teams activities are served (the "
        "conversation's tenantId, else channelData.tenant.id); others get 403. Empty: any tenant",
    )
    # What `vraagbot teams-package` writes into the Teams app package (issue 13): who publishes the app, where
    # its privacy statement and terms are. Teams shows them to everyone who installs it; no default, because a
    # made-up address there would be a promise nobody keeps.
    teams_developer_name: str | None = Field(
        default=None, description="the organisation that publishes the Teams app (the package's developer.name)",
    )
    teams_website_url: str | None = Field(default=None, description="that organisation's https website")
    teams_privacy_url: str | None = Field(
        default=None, description="the https page with the privacy statement for vraagbot (what it stores, who "
        "sees what); linked from the app's page in Teams",
    )
    teams_terms_url: str | None = Field(default=None, description="the https page with the terms of use")
    # Focus time in Teams through Microsoft Graph presence, and the people picker (issue 13)
    teams_presence: bool = Field(
        default=True, description="true: a non-urgent question waits while the expert's Teams presence is Do not "
        "disturb (Focusing), Presenting or in a call. Needs the Graph application permission Presence.Read.All; "
        "without it the bot logs that once and delivers at once, as with false",
    )
    teams_focus_max_hold_minutes: float = Field(
        default=120.0, gt=0, le=24 * 60, description="Teams gives no end to a busy presence, so a held question is "
        "looked at again at ever longer steps and delivered after at most this many minutes, busy or not",
    )
    teams_focus_recheck_minutes: float = Field(
        default=10.0, gt=0, description="the first look again at a held Teams question, minutes after asking; each "
        "next step is as long as it has waited so far",
    )
    teams_roster_refresh_minutes: float = Field(
        default=360.0, ge=0, description="a Teams activity without the sender's name (an install, a card's invoke) "
        "looks the name up in the team or chat roster at most this often per person; messages carry it anyway",
    )
    teams_owners_are_admins: bool = Field(
        default=True, description="with VRAAGBOT_TEAM_NUDGE_ADMINS_ONLY: a team's owners may change its channels' "
        "weekly message. Asked of Microsoft Graph (application permission TeamMember.Read.Group, granted per "
        "team, or TeamMember.Read.All) with the Graph credentials (VRAAGBOT_GRAPH_APP_ID, else MICROSOFT_APP_ID); "
        "without them or that permission nobody counts as admin",
    )
    graph_app_id: str | None = Field(
        default=None, description="the app registration whose application permissions Graph is asked with. "
        "Default: MICROSOFT_APP_ID (the bot's own); set it only for another registration, or for a local fake",
    )
    graph_app_password: SecretStr | None = Field(
        default=None, description="that registration's client secret. Default: MICROSOFT_APP_PASSWORD",
    )
    graph_url: str = Field(
        default="https://graph.microsoft.com", description="Microsoft Graph (another cloud's, e.g. "
        "https://graph.microsoft.us, or a local fake)",
    )
    graph_login_url: str = Field(
        default="https://login.microsoftonline.com", description="where app-only Graph tokens come from, per "
        "tenant (another cloud's, e.g. https://login.microsoftonline.us, or a local fake; https only)",
    )
    graph_ca_file: str | None = Field(
        default=None, description="a CA bundle to trust for Graph and its login besides the system's (a TLS-"
        "inspecting proxy, or a local fake)",
    )
    graph_timeout_seconds: float = Field(
        default=3.0, gt=0, le=30, description="one Graph call; a slower answer counts as no answer (delivered now)",
    )
    graph_calls_per_30_seconds: int = Field(
        default=1500, gt=0, description="Graph calls per tenant per 30 s this replica makes at most (Graph allows "
        "1,500 presence calls per 30 s per tenant: split it over the replicas); over it, questions go out at once",
    )

    def secret_values(self) -> list[str]:
        """Every secret this process knows, so the log filter can mask it wherever it turns up."""
        secrets = [self.slack_bot_token, self.slack_signing_secret, self.slack_app_token, self.microsoft_app_password,
                   self.metrics_token, self.graph_app_password, self.slack_client_secret, self.slack_token_key]
        values = [s.get_secret_value() for s in secrets if s is not None]
        password = make_url(self.database_url).password if "://" in self.database_url else None
        return values + ([str(password)] if password else [])

    @field_validator("microsoft_app_type")
    @classmethod
    def _known_app_type(cls, value: str) -> str:
        if value not in ("MultiTenant", "SingleTenant", "UserAssignedMSI"):
            raise ValueError("must be MultiTenant, SingleTenant or UserAssignedMSI")
        return value

    @field_validator("teams_service_urls")
    @classmethod
    def _service_urls(cls, value: str) -> str:
        ServiceUrls.parse(value)  # says what is wrong with which entry
        return value

    @property
    def teams_enabled(self) -> bool:
        """Teams is served with an app id (authenticated) or behind the local-testing switch."""
        return bool(self.microsoft_app_id) or self.teams_local_testing

    @property
    def teams_tenant_ids(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.teams_tenants.split(",") if t.strip())

    @model_validator(mode="after")
    def _teams_complete(self) -> Settings:
        if not self.microsoft_app_id or self.microsoft_app_type == "UserAssignedMSI":
            return self
        if self.microsoft_app_password is None:
            raise ValueError("MICROSOFT_APP_PASSWORD: must be set when MICROSOFT_APP_ID is (the app's client secret)")
        if self.microsoft_app_type == "SingleTenant" and not self.microsoft_app_tenant_id:
            raise ValueError("MICROSOFT_APP_TENANT_ID: must be set for a SingleTenant app")
        return self

    @field_validator("slack_bot_token", "slack_signing_secret", "slack_app_token", "slack_client_secret")
    @classmethod
    def _not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        # Set but empty is a mistake, never "off": an empty signing secret would let anyone sign requests.
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("must not be empty; leave the variable out instead")
        return value

    @model_validator(mode="after")
    def _slack_complete(self) -> Settings:
        if self.slack_bot_token is None:
            return self
        if not self.slack_bot_token.get_secret_value().startswith("xoxb-"):
            raise ValueError("SLACK_BOT_TOKEN: must be a bot token starting with xoxb-")
        if self.slack_app_token is None and self.slack_signing_secret is None:
            raise ValueError("SLACK_SIGNING_SECRET: must be set when SLACK_BOT_TOKEN is (or set SLACK_APP_TOKEN)")
        if self.slack_app_token is not None and not self.slack_app_token.get_secret_value().startswith("xapp-"):
            raise ValueError("SLACK_APP_TOKEN: must be an app-level token starting with xapp-")
        return self

    @model_validator(mode="after")
    def _slack_oauth_complete(self) -> Settings:
        if not self.slack_client_id:
            return self
        if self.slack_bot_token is not None:
            raise ValueError("SLACK_BOT_TOKEN: leave it out with SLACK_CLIENT_ID (OAuth distribution keeps each "
                             "workspace's token in the database); set one or the other")
        if self.slack_app_token is not None:
            raise ValueError("SLACK_APP_TOKEN: OAuth distribution needs the HTTP routes /slack/install and "
                             "/slack/oauth_redirect, and Socket Mode serves none; leave one of them out")
        if self.slack_client_secret is None:
            raise ValueError("SLACK_CLIENT_SECRET: must be set when SLACK_CLIENT_ID is")
        if self.slack_signing_secret is None:
            raise ValueError("SLACK_SIGNING_SECRET: must be set when SLACK_CLIENT_ID is")
        if self.slack_token_key is None:
            raise ValueError("VRAAGBOT_SLACK_TOKEN_KEY: must be set when SLACK_CLIENT_ID is (the stored tokens "
                             "are encrypted with it; the README says how to make one)")
        return self

    @field_validator("slack_token_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        from cryptography.fernet import Fernet  # only when set

        keys = [k.strip() for k in value.get_secret_value().split(",") if k.strip()]
        try:
            for key in keys:
                Fernet(key.encode())
        except ValueError:
            raise ValueError("must be one or more keys of 32 url-safe base64-encoded bytes, comma-separated "
                             "(a Fernet key: the README says how to make one)") from None
        if not keys:
            raise ValueError("must not be empty; leave the variable out instead")
        return value

    @property
    def slack_oauth(self) -> bool:
        """OAuth distribution: installed through /slack/install, a token per workspace."""
        return bool(self.slack_client_id)

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None or self.slack_oauth

    @property
    def slack_socket_mode(self) -> bool:
        """Slack over a WebSocket the bot opens: then no HTTP route for Slack exists."""
        return self.slack_enabled and self.slack_app_token is not None

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        try:
            make_url(value)
        except (ArgumentError, ValueError):  # neither message holds the URL
            raise ValueError("is not a URL that can be read: sqlite:///path/file.db or "
                             "postgresql://user:password@host:5432/db") from None
        return value

    @field_validator("metrics_host")
    @classmethod
    def _named_interface(cls, value: str) -> str:
        if not value.strip():  # an empty host would make the listener bind to every interface
            raise ValueError("must name an interface, such as 127.0.0.1 (default) or 0.0.0.0")
        return value.strip()

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:  # "" too: an empty token is no token
            raise ValueError("must be 16 characters or more (or leave it unset)")
        return value

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in ("nl", "en"):
            raise ValueError("must be nl or en")
        return value

    @field_validator("default_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Europe/Amsterdam") from None
        return value

    @field_validator("min_group_size")
    @classmethod
    def _privacy_floor(cls, value: int) -> int:
        if value < MIN_GROUP_SIZE_FLOOR:
            raise ValueError(f"must be at least {MIN_GROUP_SIZE_FLOOR} (privacy floor)")
        return value

    @field_validator("text_retention_days")
    @classmethod
    def _positive_days(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be a whole number of days, 1 or more")
        return value

    @field_validator("outbox_tick_seconds")
    @classmethod
    def _positive_tick(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be more than 0")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()


class SettingsError(Exception):
    """One line per wrong variable, naming it and what it accepts."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except UnicodeDecodeError as error:  # pydantic-settings reads the .env file as UTF-8 text
        raise SettingsError(f"{_env_file()}: is not a text file (not UTF-8 at byte {error.start}); save it as UTF-8 "
                            "text with one VARIABLE=value per line, or remove it") from None
    except OSError as error:
        raise SettingsError(f"{_env_file()}: cannot be read ({error.strerror or error}); fix its permissions "
                            "or remove it") from None
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            message = problem["msg"].removeprefix("Value error, ")
            if not problem["loc"]:  # a check across variables names its variable itself
                lines.append(message)
                continue
            lines.append(f"{_variable(str(problem['loc'][0]))}: {message} (got {_shown(problem)})")
        raise SettingsError("\n".join(lines)) from None


def _env_file() -> str:
    return str(Settings.model_config.get("env_file") or ".env")


# VRAAGBOT_ variables that are not the bot's settings: the test suite's and the benchmarks' own.
NOT_SETTINGS = ("VRAAGBOT_TEST_", "VRAAGBOT_BENCH_")
PREFIX = "VRAAGBOT_"


def unknown_settings(environ: Mapping[str, str]) -> list[str]:
    """A warning per VRAAGBOT_ variable that no setting reads (a misspelt one would otherwise be ignored
    without a word), naming the closest known variable. Names only: a value may be a secret."""
    known = {_variable(name): name for name in Settings.model_fields}
    # Compared without our prefix, so VRAAGBOT_ itself does not make every name look alike, and
    # VRAAGBOT_SLACK_BOT_TOKEN finds SLACK_BOT_TOKEN.
    by_stem = {variable.removeprefix(PREFIX): variable for variable in known}
    warnings = []
    for name in sorted(environ):
        upper = name.upper()  # pydantic-settings reads variable names case-insensitively
        if not upper.startswith(PREFIX) or upper in known or upper.startswith(NOT_SETTINGS):
            continue
        closest = difflib.get_close_matches(upper.removeprefix(PREFIX), by_stem, n=1, cutoff=0.7)
        hint = f"; did you mean {by_stem[closest[0]]}?" if closest else ""
        warnings.append(f"unknown setting {name} is ignored{hint}")
    return warnings


def _variable(field: str) -> str:
    aliases = {info.validation_alias for info in Settings.model_fields.values()}
    if field in aliases:  # errors name aliased fields by their variable already
        return field
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info else None
    return alias if isinstance(alias, str) else f"VRAAGBOT_{field.upper()}"


def _shown(problem: dict) -> str:
    """The wrong value, except for secrets, which never reach a log or a terminal (nor does the password
    in a URL such as the database's)."""
    field = str(problem["loc"][0]).lower()
    secret = field.endswith(("token", "secret", "password", "_key"))
    value = problem.get("input")
    if secret:
        return "a hidden value"
    return repr(_without_password(value)) if isinstance(value, str) and "@" in value else repr(value)


def _without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # not a URL SQLAlchemy reads: what precedes the last @ may be credentials
        return "***@" + url.rsplit("@", 1)[1]


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for README and --help."""
    fields = Settings.model_fields.items()
    return [(_variable(name), repr(info.default), info.description or "") for name, info in fields]
