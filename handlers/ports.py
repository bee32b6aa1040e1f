"""Ports: what the use cases need from the outside world.

Storage implements the record and repository protocols (its ORM rows satisfy the record
protocols structurally), platform adapters implement Messenger and Presence, nudges implements
Catalog. Nothing here imports an implementation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from handlers.messages import OutgoingMessage

# --------------------------------------------------------------------------- records


class WorkspaceRecord(Protocol):
    id: int
    platform: str  # "slack", "teams" or "shell"
    external_id: str  # Slack team id, Teams tenant id, "demo" for the shell
    name: str


class PersonRecord(Protocol):
    id: int
    workspace_id: int
    external_id: str  # platform user id
    handle: str  # what people type after @, lower case
    display_name: str
    locale: str  # "nl" or "en"
    time_zone: str  # IANA name
    recognition_opt_out: bool
    unreachable: bool
    created_at: datetime
    aad_object_id: str | None  # Teams only: the person's Entra object id (Graph presence, people picker)


class TopicRecord(Protocol):
    id: int
    person_id: int
    topic: str  # normalised, see handlers.models.normalise_topic
    created_at: datetime


class QuestionRecord(Protocol):
    id: int
    workspace_id: int
    asker_id: int
    expert_id: int | None  # None after the expert asked to be forgotten
    topic: str | None
    text: str | None  # None once redacted by retention or erased
    first_assessment: str | None
    kind: str | None  # QuestionKind value
    kind_shared: bool  # the asker chose to let the expert see the kind; otherwise it is the asker's own
    urgent: bool
    tag: str | None  # Tag value
    tag_source: str | None  # TagSource value
    tagged_at: datetime | None
    status: str  # QuestionStatus value
    asked_at: datetime
    deliver_after: datetime | None
    delivered_at: datetime | None
    interrupted_focus: bool  # delivered while the expert was in focus (urgent)
    first_reply_at: datetime | None
    outcome: str | None  # Outcome value
    outcome_at: datetime | None
    thread_ref: str | None  # platform's handle on the conversation thread, opaque here
    text_redacted_at: datetime | None  # when retention removed text and first_assessment
    org_workspace: str  # the workspace of a Grid org it was asked in (org-wide install); '' otherwise


class ReplyRecord(Protocol):
    id: int
    question_id: int
    author_id: int | None
    text: str | None
    created_at: datetime
    reply_seconds: float  # since delivery (or asking, when delivered at once)
    curt_score: float
    curt: bool
    curt_reasons: list[str]
    text_redacted_at: datetime | None  # when retention removed text


class SignalRecord(Protocol):
    id: int
    question_id: int
    subject_id: int | None  # whom the signal is about
    reporter_id: int | None  # who reported it; None when detected
    kind: str  # SignalKind value
    created_at: datetime
    details: dict[str, Any]


class OutboxRecord(Protocol):
    id: int
    dedupe_key: str
    person_id: int | None
    channel: str | None
    kind: str
    period: str
    payload: dict[str, Any]  # OutgoingMessage.to_payload()
    question_id: int | None
    status: str  # OutboxStatus value
    due_at: datetime
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    text_redacted_at: datetime | None  # when retention removed the payload's text
    attempt_started_at: datetime | None  # a send began then and its outcome is not known yet
    text_variant: int | None  # which variant of a rotated reframing text it says (issue 17)


@dataclass(frozen=True)
class Recipient:
    """A person a claimed message goes to, as their platform knows them."""

    platform: str  # the platform of the person's workspace
    external_id: str  # the platform's id for the person


@dataclass(frozen=True)
class Claimed:
    """One row claimed for sending (OutboxRepository.claim_for_sending)."""

    record: OutboxRecord
    in_doubt_since: datetime | None  # an earlier attempt with no known outcome began then
    # The row's person and the message's participants, read in the claim's transaction; someone who no
    # longer exists is missing (their message is unreachable). Valid for this one send only: never cache it.
    recipients: Mapping[int, Recipient]


@dataclass(frozen=True)
class TextBacklog:
    """Stored texts that retention has not removed yet, before some moment."""

    count: int
    oldest: datetime | None  # None when count is 0
    newest: datetime | None


@dataclass(frozen=True)
class ImpactQuestion:
    """One question as the impact report needs it (handlers.impact): who asked whom, what it was, and
    what followed. ``curt_at``: the first curt-reply signal (detected or reported); the variants: those
    of the reframing nudges about it that were sent (None: none was sent)."""

    id: int
    asker_id: int
    expert_id: int | None
    topic: str | None
    kind: str | None
    tag: str | None
    tag_source: str | None
    asked_at: datetime
    outcome: str | None
    outcome_at: datetime | None
    curt_at: datetime | None
    curt_variant: int | None  # -1: a nudge was sent before variants were recorded
    confirmation_variant: int | None  # likewise
    autonomy_sent: bool  # the autonomy encouragement went out instead of the confirmation nudge
    in_role: bool  # the topic was in the expert's role when asked (an in-role nudge was queued)


@dataclass(frozen=True)
class MentionsForgotten:
    """What forget-me did to messages addressed to others that were about the person."""

    deleted: int = 0  # unsent, and about them: must not go out
    blanked: int = 0  # unsent, naming them in passing: go out without the name
    scrubbed: int = 0  # sent already: the row stays (no second send), its text goes


# --------------------------------------------------------------------------- repositories


class WorkspaceRepository(Protocol):
    async def get(self, workspace_id: int) -> WorkspaceRecord | None: ...

    async def by_external_id(self, platform: str, external_id: str) -> WorkspaceRecord | None: ...

    async def get_or_create(self, platform: str, external_id: str, name: str) -> WorkspaceRecord: ...

    async def get_for_update(self, workspace_id: int) -> WorkspaceRecord | None:
        """Like get, but locks the row (PostgreSQL): rows that point at it cannot be added meanwhile."""

    async def delete(self, workspace_id: int) -> int:
        """Delete the workspace row itself (the caller erased its data first: handlers.workspace_erasure)."""


class PersonRepository(Protocol):
    async def get(self, person_id: int) -> PersonRecord | None: ...

    async def get_many(self, person_ids: Sequence[int]) -> list[PersonRecord]:
        """Those of these people who exist, in one query; order not defined."""
        ...

    async def with_rotation(self, person_ids: Sequence[int], kind: str) -> list[tuple[PersonRecord, int]]:
        """Like get_many, each person with the number of ``kind`` messages ever queued for them
        (OutboxRepository.count_for, the rotation seed of their next such text), in one query."""
        ...

    async def by_external_id(self, workspace_id: int, external_id: str) -> PersonRecord | None: ...

    async def by_platform_ids(self, platform: str, workspace_external_id: str, external_id: str) -> PersonRecord | None:
        """The person with platform user id ``external_id`` in the workspace the platform calls
        ``workspace_external_id``, in one query (no workspace lookup first)."""

    async def by_handle(self, workspace_id: int, handle: str) -> PersonRecord | None: ...

    async def named(self, workspace_id: int, handle: str) -> list[PersonRecord]:
        """People whose handle is ``handle`` or begins with ``handle-`` (where a taken handle's second
        holder lands), oldest first: the candidates when someone types ``@handle``."""

    async def add(
        self,
        *,
        workspace_id: int,
        external_id: str,
        handle: str,
        display_name: str,
        locale: str,
        time_zone: str,
        now: datetime,
    ) -> PersonRecord: ...

    async def delete(self, person_id: int) -> None:
        """Delete the person row itself (the caller erased their data first)."""

    async def count_in_workspace(self, workspace_id: int) -> int: ...

    async def delete_in_workspace(self, workspace_id: int) -> int:
        """Delete the workspace's people (the caller erased their questions first)."""


class TopicRepository(Protocol):
    async def list_for(self, person_id: int) -> list[TopicRecord]: ...

    async def add(self, person_id: int, topic: str, now: datetime) -> bool:
        """Declare a topic in-role; False when it was already declared."""

    async def remove(self, person_id: int, topic: str) -> bool:
        """False when the topic was not declared."""

    async def experts_for(self, workspace_id: int, topic: str) -> list[PersonRecord]:
        """People in the workspace who declared the topic in-role, by id."""

    async def delete_for(self, person_id: int) -> int: ...

    async def count_in_workspace(self, workspace_id: int) -> int:
        """Topics declared by the workspace's people."""

    async def delete_in_workspace(self, workspace_id: int) -> int: ...


class QuestionRepository(Protocol):
    async def add(
        self,
        *,
        workspace_id: int,
        asker_id: int,
        expert_id: int,
        topic: str | None,
        text: str,
        first_assessment: str | None,
        kind: str | None,
        urgent: bool,
        status: str,
        asked_at: datetime,
        deliver_after: datetime | None,
        interrupted_focus: bool,
        kind_shared: bool = False,
        tag: str | None = None,
        tag_source: str | None = None,
        tagged_at: datetime | None = None,
        org_workspace: str = "",
    ) -> QuestionRecord:
        """Insert, in one statement, and return the stored row (``id`` set)."""

    async def get(self, question_id: int) -> QuestionRecord | None: ...

    async def get_for_update(self, question_id: int) -> QuestionRecord | None:
        """Like get, but locks the row (PostgreSQL) so two replicas cannot act on it at once."""

    async def by_thread_ref(self, workspace_id: int, thread_ref: str, *,
                            for_update: bool = False) -> QuestionRecord | None:
        """The newest question in this thread; ``for_update`` locks it as get_for_update does."""

    async def open_counts(self, expert_ids: Sequence[int]) -> dict[int, int]:
        """Open (held or delivered, not yet answered) questions per expert; missing ids count 0."""

    async def asked_by(self, person_id: int) -> list[QuestionRecord]: ...

    async def answered_by(self, person_id: int) -> list[QuestionRecord]:
        """Questions where the person is the expert."""

    async def recent_doubt_outcomes(self, asker_id: int, topic: str, limit: int) -> list[QuestionRecord]:
        """The asker's latest closed doubt-kind questions on a topic, newest first."""

    async def asked_between(self, workspace_id: int, start: datetime, end: datetime, *,
                            org_workspace: str = "") -> list[QuestionRecord]:
        """Questions asked in the workspace with start <= asked_at < end, oldest first. With
        ``org_workspace``: only those asked in that workspace of a Grid org (the team, for figures)."""

    async def answered_between(
        self, start: datetime, end: datetime, workspace_id: int | None = None, *, org_workspace: str = ""
    ) -> list[QuestionRecord]:
        """Questions first replied to with start <= first_reply_at < end (in every workspace without
        ``workspace_id``; ``org_workspace`` as for asked_between), oldest first."""

    async def delete_asked_by(self, person_id: int) -> int:
        """Delete questions the person asked, with their replies and signals."""

    async def detach_expert(self, person_id: int) -> int:
        """Set expert_id to None on questions the person was asked (the asker keeps them)."""

    async def count_in_workspace(self, workspace_id: int) -> int:
        """Questions asked in the workspace or by its people."""

    async def delete_in_workspace(self, workspace_id: int) -> int:
        """Delete those questions (their replies, signals and messages go with them)."""

    async def text_backlog(self, before: datetime) -> TextBacklog:
        """Questions asked before ``before`` whose text retention has not removed yet."""

    async def redact_texts(self, before: datetime, now: datetime, limit: int) -> int:
        """Remove text and first assessment of at most ``limit`` such questions (text_redacted_at =
        ``now``); everything else stays. Returns how many; 0 once none are left."""


class ReplyRepository(Protocol):
    async def add(
        self,
        *,
        question_id: int,
        author_id: int,
        text: str,
        created_at: datetime,
        reply_seconds: float,
        curt_score: float,
        curt: bool,
        curt_reasons: list[str],
    ) -> ReplyRecord: ...

    async def for_question(self, question_id: int) -> list[ReplyRecord]: ...

    async def written_by(self, person_id: int) -> list[ReplyRecord]: ...

    async def delete_written_by(self, person_id: int) -> int: ...

    async def count_in_workspace(self, workspace_id: int) -> int:
        """Replies to the workspace's questions (QuestionRepository.count_in_workspace), or by its people."""

    async def delete_in_workspace(self, workspace_id: int) -> int: ...

    async def text_backlog(self, before: datetime) -> TextBacklog:
        """Replies written before ``before`` whose text retention has not removed yet."""

    async def redact_texts(self, before: datetime, now: datetime, limit: int) -> int:
        """Remove the text of at most ``limit`` such replies; curt score and reasons stay."""


class SignalRepository(Protocol):
    async def add(
        self,
        *,
        question_id: int,
        subject_id: int | None,
        reporter_id: int | None,
        kind: str,
        created_at: datetime,
        details: dict[str, Any] | None = None,
    ) -> SignalRecord: ...

    async def for_question(self, question_id: int) -> list[SignalRecord]: ...

    async def for_questions(self, question_ids: Sequence[int]) -> list[SignalRecord]: ...

    async def about(self, person_id: int) -> list[SignalRecord]:
        """Signals whose subject or reporter is the person."""

    async def delete_about(self, person_id: int) -> int:
        """Delete signals whose subject is the person; clear reporter_id where they reported."""

    async def count_in_workspace(self, workspace_id: int) -> int:
        """Signals on the workspace's questions, or about its people."""

    async def delete_in_workspace(self, workspace_id: int) -> int: ...


class OutboxRepository(Protocol):
    async def add(
        self,
        *,
        dedupe_key: str,
        message: OutgoingMessage,
        period: str,
        due_at: datetime,
        now: datetime,
        text_variant: int | None = None,
    ) -> OutboxRecord | None:
        """Queue a message; None (and nothing written) when the key exists already. ``text_variant``:
        the variant of a rotated text it says, kept for the impact report."""

    async def claim_due(
        self, now: datetime, limit: int, *, lease_until: datetime | None = None
    ) -> list[OutboxRecord]:
        """Pending rows due at or before ``now``, oldest first, locked against other replicas
        (``FOR UPDATE SKIP LOCKED`` on PostgreSQL). With ``lease_until`` their due time moves
        there, so the caller can commit and send outside the transaction: nobody else takes
        them meanwhile, and after a crash they are due again when the lease ends."""

    async def begin_attempt(self, row_id: int, now: datetime) -> datetime | None:
        """A send of the row starts now; returns when an earlier send with unknown outcome began."""

    async def claim_for_sending(self, now: datetime, limit: int, *, lease_until: datetime) -> list[Claimed]:
        """claim_due with a lease and begin_attempt for each row, in one go, with the rows' recipients,
        so a send needs no transaction of its own before it goes out."""

    async def mark_sent(self, row_id: int, now: datetime) -> None: ...

    async def mark_failed(self, row_id: int, error: str, now: datetime, retry_at: datetime | None, *,
                          outcome_unknown: bool = True) -> None:
        """With ``retry_at``: stays pending until then, attempts + 1. Without: failed for good.
        ``outcome_unknown=False``: the platform answered (nothing arrived), so the attempt marker goes."""

    async def mark_skipped(self, row_id: int, reason: str) -> None: ...

    async def pending_for_question(self, question_id: int, *, lock: bool = False) -> list[OutboxRecord]:
        """The question's unsent rows; ``lock``: locked until the transaction ends (waiting for a
        delivery that holds them), so a held question can be sent now or withdrawn exactly once."""

    async def postpone(self, row_id: int, due_at: datetime) -> None:
        """A claimed row that was not sent is due at ``due_at`` instead; its attempt marker goes."""

    async def bring_forward(self, row_id: int, due_at: datetime, message: OutgoingMessage) -> None:
        """A pending row is due at ``due_at`` instead, saying ``message``; its key stays, so it still goes once."""

    async def count_for(self, person_id: int, kind: str) -> int:
        """How many messages of this kind were ever queued for the person (rotates texts)."""

    async def count_for_channel(self, channel: str, kind: str) -> int:
        """How many messages of this kind were ever queued for the channel (rotates texts)."""

    async def existing(self, dedupe_keys: Sequence[str]) -> set[str]:
        """Those of these keys that were ever queued (any status), in one query or a few."""
        ...

    async def exists(self, dedupe_key: str) -> bool:
        """Whether a message with this key was queued already, whatever became of it."""

    async def for_person(self, person_id: int) -> list[OutboxRecord]: ...

    async def delete_for_person(self, person_id: int) -> int: ...

    async def count_in_workspace(self, workspace_id: int, *, channel_keys_ending: str) -> int:
        """Messages, any status, to the workspace's people or about its questions, and its channel
        messages: those addressed to no person whose key ends with ``channel_keys_ending``."""

    async def delete_in_workspace(self, workspace_id: int, *, channel_keys_ending: str) -> int: ...

    async def forget_mentions(self, *, person_id: int, question_ids: Sequence[int], names: Sequence[str],
                              now: datetime) -> MentionsForgotten:
        """After forget-me: messages to others about the person (tied to ``question_ids``, the
        questions they were asked, or naming them: any of ``names`` as a whole word). Unsent ones
        about their questions, and unsent channel messages, are deleted; other unsent ones go out
        with the names blanked; sent ones keep their row (its key stops a second send) without text."""

    async def text_backlog(self, before: datetime) -> TextBacklog:
        """Messages queued before ``before`` that are no longer pending (sent, failed, skipped) and
        still carry their text."""

    async def unsent_before(self, before: datetime) -> int:
        """Pending messages queued before ``before``: retention leaves their text alone."""

    async def redact_texts(self, before: datetime, now: datetime, limit: int) -> int:
        """Remove text and attachment from the payload of at most ``limit`` such messages. Never
        touches a pending message: it still has to be sent."""

    async def forget_variants(self, before: datetime) -> int:
        """Clear the text variant of messages queued before ``before`` (retention); returns how many."""


class ProcessedEventRepository(Protocol):
    async def first_time(self, platform: str, event_id: str, now: datetime) -> bool:
        """Record a platform event id; False when it was seen before (a retry)."""

    async def prune(self, before: datetime) -> int:
        """Forget event ids received before ``before``; returns how many."""


class ConversationRecord(Protocol):
    workspace_id: int
    kind: str  # "person" or "channel"
    external_id: str
    name: str
    reference: dict[str, Any]  # the platform's own conversation reference, serialised
    updated_at: datetime


class ConversationRepository(Protocol):
    async def get(self, workspace_id: int, kind: str, external_id: str) -> ConversationRecord | None: ...

    async def save(self, *, workspace_id: int, kind: str, external_id: str, name: str, reference: dict[str, Any],
                   now: datetime) -> None:
        """Insert or replace the reference (a person's chat or a channel)."""

    async def channels(self, workspace_id: int) -> list[ConversationRecord]: ...

    async def find_channel(self, external_id: str) -> ConversationRecord | None: ...

    async def delete_person(self, workspace_id: int, external_id: str) -> int: ...

    async def count_in_workspace(self, workspace_id: int) -> int:
        """The workspace's references, people's chats and channels."""

    async def delete_in_workspace(self, workspace_id: int) -> int: ...


class TeamScheduleRecord(Protocol):
    id: int
    workspace_id: int
    channel: str  # "<platform>:<channel id>", e.g. "slack:C123"
    weekday: int  # 0 = Monday
    hour: int
    minute: int
    time_zone: str  # IANA name; the send time is local time there, daylight saving included
    language: str  # "nl" or "en"
    enabled: bool
    changed_by: int | None  # person id; None after they asked to be forgotten
    created_at: datetime
    updated_at: datetime  # sends due before this moment do not count (a new setting starts afresh)
    org_workspace: str  # set from that workspace of a Grid org (org-wide install): its figures; '' otherwise


class TeamScheduleRepository(Protocol):
    async def for_channel(self, workspace_id: int, channel: str) -> TeamScheduleRecord | None:
        """The workspace's own setting: a channel id seen from two workspaces has two settings."""

    async def in_channel(self, channel: str) -> list[TeamScheduleRecord]:
        """Every workspace's setting for the channel id, oldest first."""

    async def save(
        self,
        *,
        workspace_id: int,
        channel: str,
        weekday: int,
        hour: int,
        minute: int,
        time_zone: str,
        language: str,
        changed_by: int,
        now: datetime,
        org_workspace: str = "",
    ) -> TeamScheduleRecord:
        """Insert or replace the channel's schedule; it is enabled afterwards."""

    async def enabled(self) -> list[TeamScheduleRecord]: ...

    async def changed_by_person(self, person_id: int) -> list[TeamScheduleRecord]: ...

    async def count_in_workspace(self, workspace_id: int) -> int: ...

    async def delete_in_workspace(self, workspace_id: int) -> int: ...


class TeamWeekRecord(Protocol):
    """A workspace's figures for one ISO week, stored once (handlers.insights.WeekFigures): counts only."""

    id: int
    workspace_id: int
    week: str  # ISO week, e.g. "2026-W47"
    time_zone: str
    asked: int
    werk: int
    with_outcome: int
    confirmed: int
    people: int
    answered: int
    answerers: int
    short_replies: int
    previous: list[dict[str, int]]  # the trend's earlier weeks, newest first: {"asked": n, "people": n}
    computed_at: datetime
    org_workspace: str  # a workspace of a Grid org (org-wide install); '' for the whole workspace


class TeamWeekRepository(Protocol):
    async def get(self, workspace_id: int, week: str, *, org_workspace: str = "") -> TeamWeekRecord | None: ...

    async def get_many(self, workspace_id: int, weeks: Sequence[str], *,
                       org_workspace: str = "") -> list[TeamWeekRecord]: ...

    async def keep(self, *, workspace_id: int, week: str, time_zone: str, figures: dict[str, int],
                   previous: list[dict[str, int]], now: datetime, org_workspace: str = "") -> TeamWeekRecord:
        """Store the week's figures unless they are stored already, and return what is stored: when
        two replicas compute the same week at once, both get the first one's figures."""

    async def count_in_workspace(self, workspace_id: int) -> int:
        """Stored weeks of the workspace, those of each workspace of a Grid org included."""

    async def delete_in_workspace(self, workspace_id: int) -> int: ...


class ImpactRepository(Protocol):
    """Reads for the impact report (handlers.impact): a team's questions, nothing about one person."""

    async def questions_asked(self, workspace_id: int, start: datetime, end: datetime, *,
                              org_workspace: str = "") -> list[ImpactQuestion]:
        """Questions asked in the workspace (``org_workspace``: in that workspace of a Grid org) with
        start <= asked_at < end, oldest first."""

    async def languages(self, workspace_id: int) -> list[str]:
        """The languages of the workspace's enabled weekly team messages, most used first."""


class EdgeRecords(Protocol):
    """What a platform edge stores about a workspace beyond the repositories: Slack's installation and the
    requests waiting in the inbox. Made for one open unit of work, so it writes in that transaction."""

    async def count_installations(self, workspace: WorkspaceRecord) -> int:
        """Stored platform installations (tokens) of the workspace: 0 or 1."""

    async def delete_installations(self, workspace: WorkspaceRecord) -> int: ...

    async def count_waiting(self, workspace: WorkspaceRecord) -> int:
        """Requests from the workspace stored and not worked yet (done ones keep no data, only a key)."""

    async def delete_waiting(self, workspace: WorkspaceRecord) -> int: ...


class UnitOfWork(Protocol):
    """One database transaction. ``async with uow:`` commits on success, rolls back on error."""

    workspaces: WorkspaceRepository
    people: PersonRepository
    topics: TopicRepository
    questions: QuestionRepository
    replies: ReplyRepository
    signals: SignalRepository
    outbox: OutboxRepository
    events: ProcessedEventRepository
    conversations: ConversationRepository
    team_schedules: TeamScheduleRepository
    team_weeks: TeamWeekRepository
    impact: ImpactRepository

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, *exc_info: object) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


# --------------------------------------------------------------------------- the outside world


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC."""


class Presence(Protocol):
    async def focus_until(self, person: PersonRecord, platform: str) -> datetime | None:
        """When the person is in focus / do-not-disturb now: when it ends (UTC). Otherwise None.
        ``platform`` is where the person lives ("slack", "teams", "shell")."""


@dataclass(frozen=True)
class Recheck:
    """How a platform that says *that* someone is in focus, not until when (Teams), wants a held question
    looked at again: first after ``first``, then at ever longer steps, and delivered anyway once ``bound``
    has passed since asking."""

    first: timedelta
    bound: timedelta


class RecheckingPresence(Protocol):
    """Optional for a Presence: ``recheck`` says, per platform, whether its ``focus_until`` is a real end
    (None, e.g. Slack's do-not-disturb window) or only when to look again (a Recheck)."""

    def recheck(self, platform: str) -> Recheck | None: ...


class Messenger(Protocol):
    async def send(self, message: OutgoingMessage) -> str | None:
        """Deliver one message; returns the platform's id for it (used as thread reference)
        when there is one. Raises RecipientUnreachable or TransientSendError."""


class AddressedMessenger(Protocol):
    """Optional for a Messenger: it can send with the recipients the outbox read along with its claim."""

    def addressed(self, recipients: Mapping[int, Recipient]) -> Messenger:
        """This messenger for one send (and its look-ups) to these recipients: it looks nobody up, and a
        person missing from ``recipients`` is unreachable."""


class DeliveryLookup(Protocol):
    """Optional for a Messenger: can it tell whether a message was delivered after all?"""

    async def find_delivered(self, message: OutgoingMessage, since: datetime) -> str | None:
        """The platform id of ``message`` (matched by its ``delivery_key``) if it was delivered
        at or after ``since``, else None. Raises TransientSendError when the platform cannot tell."""


class Catalog(Protocol):
    def text(self, locale: str, key: str, **params: Any) -> str:
        """A user-facing text by key, with ``{name}`` parameters filled in."""

    def variant(self, locale: str, key: str, seed: int, **params: Any) -> str:
        """One of several rotated variants of a text; ``seed`` picks which."""

    def variant_number(self, locale: str, key: str, seed: int) -> int:
        """Which of the variants ``variant`` picks for this seed (0-based), to record what was sent."""
