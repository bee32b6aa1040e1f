"""The schema as typed SQLAlchemy models, one per record protocol in ``handlers.ports``.

Column names are the protocol attribute names, so the ORM rows satisfy those protocols
structurally. There are deliberately no ``relationship()``s: repositories query explicitly,
which keeps lazy loading (an error under asyncio) out of the picture, and deletes cascade in the
database through the foreign keys.

The schema itself is only ever built by the Alembic migrations; ``Base.metadata`` is what they are
checked against (see tests/integration/test_migrations.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy import text as sql_text  # plain `text` is a column name below
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from handlers.models import OutboxStatus

# Stable constraint and index names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Short strings: ids and handles from Slack and Teams (Teams ids run to ~100 characters).
EXTERNAL_ID = 255
NAME = 255
TOPIC = 100  # handlers.models.MAX_TOPIC_CHARS is 60; leave room without a migration
ENUM_VALUE = 32  # StrEnum values of handlers.models


class UTCDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE`` that always hands back aware UTC datetimes.

    PostgreSQL stores the instant; SQLite stores text without an offset, so we normalise to UTC
    before writing (which also keeps text comparisons like ``due_at <= now`` correct) and attach
    UTC when reading. Naive datetimes are refused: they are a bug in the caller (Clock.now() is
    aware), and guessing would silently shift times.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: storage needs timezone-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute as is
        datetime: UTCDateTime(),
        bool: Boolean(),
        int: Integer(),
        float: Float(),
        # Mutable wrappers so in-place edits (details["x"] = 1) are flushed too.
        dict[str, Any]: MutableDict.as_mutable(JSON()),
        list[str]: MutableList.as_mutable(JSON()),
    }


def _flag() -> Any:
    """A NOT NULL boolean, False by default both in Python and in the database."""
    return mapped_column(default=False, server_default=false())


def _org_workspace() -> Any:
    """Which workspace of an Enterprise Grid org a row belongs to, with an org-wide install (whose
    ``workspace_id`` is the org); '' otherwise, and '' stands for the whole workspace (0015)."""
    return mapped_column(String(EXTERNAL_ID), default="", server_default="")


class Workspace(Base):
    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(EXTERNAL_ID))
    name: Mapped[str] = mapped_column(String(NAME))


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("workspace_id", "external_id"),
        UniqueConstraint("workspace_id", "handle"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    external_id: Mapped[str] = mapped_column(String(EXTERNAL_ID))
    handle: Mapped[str] = mapped_column(String(NAME))
    display_name: Mapped[str] = mapped_column(String(NAME))
    locale: Mapped[str] = mapped_column(String(16))
    time_zone: Mapped[str] = mapped_column(String(64))
    recognition_opt_out: Mapped[bool] = _flag()
    unreachable: Mapped[bool] = _flag()
    created_at: Mapped[datetime]
    # Teams only: the Microsoft Entra (AAD) object id, for Graph presence and the people picker (migration 0014).
    aad_object_id: Mapped[str | None] = mapped_column(String(64), default=None)


class ExpertTopic(Base):
    __tablename__ = "expert_topics"
    __table_args__ = (UniqueConstraint("person_id", "topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(TOPIC), index=True)
    created_at: Mapped[datetime]


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (
        Index("ix_questions_expert_id_status", "expert_id", "status"),
        Index("ix_questions_asker_id_topic_kind", "asker_id", "topic", "kind"),
        Index("ix_questions_workspace_id_thread_ref", "workspace_id", "thread_ref"),
        Index("ix_questions_workspace_id_asked_at", "workspace_id", "asked_at"),
        Index("ix_questions_workspace_id_first_reply_at", "workspace_id", "first_reply_at"),  # a team's answers
        Index("ix_questions_first_reply_at", "first_reply_at"),  # everyone's answers: experts' summaries
        Index("ix_questions_text_redacted_at_asked_at", "text_redacted_at", "asked_at"),  # retention
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    # No ON DELETE: erasing a person must delete their questions first, on purpose.
    asker_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    topic: Mapped[str | None] = mapped_column(String(TOPIC))
    text: Mapped[str | None] = mapped_column(Text)
    first_assessment: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(ENUM_VALUE))
    kind_shared: Mapped[bool] = _flag()  # the asker chose to show the kind to the expert (0008)
    urgent: Mapped[bool] = _flag()
    tag: Mapped[str | None] = mapped_column(String(ENUM_VALUE))
    tag_source: Mapped[str | None] = mapped_column(String(ENUM_VALUE))
    tagged_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(ENUM_VALUE))
    asked_at: Mapped[datetime]
    deliver_after: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    interrupted_focus: Mapped[bool] = _flag()
    first_reply_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(ENUM_VALUE))
    outcome_at: Mapped[datetime | None]
    thread_ref: Mapped[str | None] = mapped_column(String(512))  # Teams conversation ids are long
    text_redacted_at: Mapped[datetime | None]
    org_workspace: Mapped[str] = _org_workspace()  # where it was asked: the team it counts for


class Reply(Base):
    __tablename__ = "replies"
    __table_args__ = (Index("ix_replies_text_redacted_at_created_at", "text_redacted_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    reply_seconds: Mapped[float]
    curt_score: Mapped[float] = mapped_column(default=0.0, server_default=sql_text("0"))
    curt: Mapped[bool] = _flag()
    curt_reasons: Mapped[list[str]] = mapped_column(default=list)
    text_redacted_at: Mapped[datetime | None]  # set when retention removed ``text``


class Signal(Base):
    __tablename__ = "signals"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(ENUM_VALUE))
    created_at: Mapped[datetime]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OutboxMessage(Base):
    """One queued delivery; ``dedupe_key`` makes a second queueing of the same nudge a no-op."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_due_at", "status", "due_at"),
        Index("ix_outbox_text_redacted_at_created_at", "text_redacted_at", "created_at"),  # retention
        # Retention clears old variant numbers (0012): only rows that still carry one.
        Index("ix_outbox_variant_created_at", "created_at", sqlite_where=sql_text("text_variant IS NOT NULL"),
              postgresql_where=sql_text("text_variant IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str | None] = mapped_column(String(EXTERNAL_ID))
    kind: Mapped[str] = mapped_column(String(ENUM_VALUE))
    period: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(
        String(ENUM_VALUE),
        default=OutboxStatus.PENDING.value,
        server_default=sql_text("'pending'"),
    )
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0, server_default=sql_text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    text_redacted_at: Mapped[datetime | None]  # set when retention removed the payload's text
    # A send whose outcome is unknown began then (claimed, no result recorded yet; see migration 0005).
    attempt_started_at: Mapped[datetime | None]
    # Which variant of a rotated reframing text this message was written with (0012, issue 17).
    text_variant: Mapped[int | None]


class ProcessedEvent(Base):
    """Platform event ids already handled, so a retried delivery is recognised."""

    __tablename__ = "processed_events"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(EXTERNAL_ID), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)  # for pruning old ids


class ConversationRef(Base):
    """Where a platform lets the bot write proactively (Teams): a person's personal chat or a team
    channel, as the platform's own reference, so sends work after a restart and from any replica."""

    __tablename__ = "conversation_refs"
    __table_args__ = (UniqueConstraint("workspace_id", "kind", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "person" or "channel"
    external_id: Mapped[str] = mapped_column(String(EXTERNAL_ID))  # user id or channel conversation id
    name: Mapped[str] = mapped_column(String(NAME), default="")
    reference: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class TeamSchedule(Base):
    """A team channel's weekly nudge: weekday and local time in an IANA time zone, and a language.
    What was sent lives in the outbox (key: channel, kind, ISO week, workspace), not here."""

    __tablename__ = "team_schedules"
    # Per workspace: a channel id can be seen from two workspaces (a shared channel, or a forged
    # request naming another team's channel), and neither may change the other's setting (0007).
    __table_args__ = (UniqueConstraint("workspace_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(EXTERNAL_ID))  # "<platform>:<channel id>"
    weekday: Mapped[int]  # 0 = Monday
    hour: Mapped[int]
    minute: Mapped[int]
    time_zone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    org_workspace: Mapped[str] = _org_workspace()  # where it was set: whose figures the channel gets


class TeamWeekFigures(Base):
    """A workspace's figures for one ISO week, computed once, when the first message about that week
    was composed, and reused by every later one (issue 11, finding 5): a forget-me between two
    channels' messages would otherwise change the second one's figures by exactly the forgotten
    person's replies and verdicts. Counts only, never a name or id of a person, so forget-me has
    nothing to remove here; being aggregates, the rows are kept (retention leaves them alone)."""

    __tablename__ = "team_week_figures"
    # One set of figures per week (and workspace of an org, 0015), whoever computed it.
    __table_args__ = (UniqueConstraint("workspace_id", "org_workspace", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(16))  # ISO week, e.g. "2026-W47" (handlers.weeks)
    time_zone: Mapped[str] = mapped_column(String(64))  # the zone the week was local to
    asked: Mapped[int]
    werk: Mapped[int]
    with_outcome: Mapped[int]
    confirmed: Mapped[int]
    people: Mapped[int]
    answered: Mapped[int]
    answerers: Mapped[int]
    short_replies: Mapped[int]
    # The trend's earlier weeks, newest first, as they stood then: [{"asked": n, "people": n}, ...]
    previous: Mapped[list[dict[str, int]]] = mapped_column(JSON())
    computed_at: Mapped[datetime]
    org_workspace: Mapped[str] = _org_workspace()


class InboxRequest(Base):
    """A platform request the bot has acknowledged and not yet worked (issue 12): stored before the
    ack, so kill -9 after the ack loses nothing. A worker claims it (``lease_until``), runs it and
    stamps ``done_at`` in the same transaction as the work's writes; the payload is cleared then, so
    message text waits here only while its work does. ``dedup_key`` (Slack's event id, a modal's
    view id, a command's trigger id) makes a retried or double-submitted request take effect once;
    done rows keep only that key and are pruned by retention."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("dedup_key"),
        # The claim query's two look-ups, over waiting rows only: the oldest first, and whether the
        # same person has an older one waiting (their requests run in order).
        Index("ix_inbox_waiting", "id", sqlite_where=sql_text("done_at IS NULL"),
              postgresql_where=sql_text("done_at IS NULL")),
        Index("ix_inbox_waiting_person", "person_key", "id", sqlite_where=sql_text("done_at IS NULL"),
              postgresql_where=sql_text("done_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(ENUM_VALUE))
    dedup_key: Mapped[str] = mapped_column(String(EXTERNAL_ID))
    person_key: Mapped[str] = mapped_column(String(EXTERNAL_ID))  # whose request: kept in order per person
    payload: Mapped[str | None] = mapped_column(Text)  # the platform's body as JSON; None once done
    request_id: Mapped[str | None] = mapped_column(String(64))  # the HTTP request's id, for the work's log lines
    received_at: Mapped[datetime] = mapped_column(index=True)  # for pruning done rows
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_until: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    failed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SlackInstallation(Base):
    """One install of the Slack app through OAuth (issue 16): a workspace, or a whole Enterprise Grid org
    for an org-wide install. ``workspace_key`` is what vraagbot keys that workspace by (``workspaces.
    external_id`` for platform "slack"): the org's enterprise id for an org-wide install, else the team id.
    The token columns hold ciphertext only (bot/slack/installations.py encrypts them); uninstalling or
    revoking clears them."""

    __tablename__ = "slack_installations"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_key: Mapped[str] = mapped_column(String(EXTERNAL_ID), unique=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID))
    team_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID))  # None for an org-wide install
    is_enterprise_install: Mapped[bool] = _flag()
    app_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID))
    enterprise_name: Mapped[str | None] = mapped_column(String(NAME))
    team_name: Mapped[str | None] = mapped_column(String(NAME))
    bot_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID))
    bot_user_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID))
    bot_scopes: Mapped[str | None] = mapped_column(Text)
    bot_token: Mapped[str | None] = mapped_column(Text)  # encrypted
    bot_refresh_token: Mapped[str | None] = mapped_column(Text)  # encrypted; only with token rotation
    bot_token_expires_at: Mapped[datetime | None]
    user_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID))  # who installed it
    user_token: Mapped[str | None] = mapped_column(Text)  # encrypted; only when user scopes were asked for
    user_refresh_token: Mapped[str | None] = mapped_column(Text)  # encrypted
    user_scopes: Mapped[str | None] = mapped_column(Text)
    user_token_expires_at: Mapped[datetime | None]
    token_type: Mapped[str | None] = mapped_column(String(ENUM_VALUE))
    installed_at: Mapped[datetime]
    # Set while one replica spends the refresh token (0016); it runs out by itself if that replica dies.
    refresh_claimed_until: Mapped[datetime | None]


class SlackOAuthState(Base):
    """The state of an OAuth install that was started and not yet finished: consumed once, before it expires."""

    __tablename__ = "slack_oauth_states"

    state: Mapped[str] = mapped_column(String(EXTERNAL_ID), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
