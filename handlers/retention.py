"""Text retention (docs/architecture.md): what people wrote is kept only for the configured number of days.

Question texts (with the asker's first assessment), reply texts, and the texts of messages the outbox
sent (relayed questions and answers among them) lose their text once older than the cutoff. Tags,
signals, outcomes, timings, curt scores and counts stay, so figures and overviews do not change.
Unsent messages keep their text whatever their age: removing it would lose the message.

The same run forgets platform event ids older than EVENT_IDS_KEPT (kept only to recognise a
retried delivery; Slack retries within the hour, or for up to a day with Delayed Events), and clears
which reframing text variant a message said once it is older than the longest impact report looks back
(handlers.impact.VARIANTS_KEPT; the message row itself stays, as above).

Each batch is its own short transaction, so a large backlog never holds one long lock, and a crash
halfway leaves only whole batches done. Every update only takes rows not yet redacted, so running
it twice, or on several replicas at once, redacts each text once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from handlers.impact import VARIANTS_KEPT
from handlers.ports import Clock, TextBacklog, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

BATCH = 500  # rows per transaction
EVENT_IDS_KEPT = timedelta(days=3)


class TextKind(StrEnum):
    QUESTIONS = "questions"  # question text and first assessment
    REPLIES = "replies"
    MESSAGES = "messages"  # sent, failed or skipped outbox messages


@dataclass(frozen=True)
class RetentionReport:
    cutoff: datetime  # texts from before this moment go
    days: int
    found: dict[TextKind, TextBacklog]  # what was due when the run started
    redacted: dict[TextKind, int]  # what this run removed (all zero for a dry run)
    unsent_kept: int  # pending messages older than the cutoff, left alone
    events_pruned: int = 0  # platform event ids forgotten (older than EVENT_IDS_KEPT)
    variants_cleared: int = 0  # messages whose text variant number went (older than VARIANTS_KEPT)

    @property
    def total_redacted(self) -> int:
        return sum(self.redacted.values())


def retention_cutoff(now: datetime, days: int) -> datetime:
    if days < 1:
        raise ValueError("text retention must be at least one day")
    try:
        return now - timedelta(days=days)
    except OverflowError:  # a retention longer than the calendar: nothing is old enough
        return datetime.min.replace(tzinfo=now.tzinfo)


async def _survey(uow: UnitOfWork, cutoff: datetime) -> tuple[dict[TextKind, TextBacklog], int]:
    found = {
        TextKind.QUESTIONS: await uow.questions.text_backlog(cutoff),
        TextKind.REPLIES: await uow.replies.text_backlog(cutoff),
        TextKind.MESSAGES: await uow.outbox.text_backlog(cutoff),
    }
    return found, await uow.outbox.unsent_before(cutoff)


async def preview_retention(uow_factory: UnitOfWorkFactory, clock: Clock, days: int) -> RetentionReport:
    """What a run now would remove; changes nothing."""
    cutoff = retention_cutoff(clock.now(), days)
    async with uow_factory() as uow:
        found, unsent = await _survey(uow, cutoff)
        await uow.rollback()  # read only
    return RetentionReport(cutoff, days, found, dict.fromkeys(TextKind, 0), unsent)


async def _redact_batch(uow: UnitOfWork, kind: TextKind, cutoff: datetime, now: datetime, limit: int) -> int:
    if kind is TextKind.QUESTIONS:
        return await uow.questions.redact_texts(cutoff, now, limit)
    if kind is TextKind.REPLIES:
        return await uow.replies.redact_texts(cutoff, now, limit)
    return await uow.outbox.redact_texts(cutoff, now, limit)


async def apply_retention(uow_factory: UnitOfWorkFactory, clock: Clock, days: int, *,
                          batch: int = BATCH) -> RetentionReport:
    """Remove every text older than ``days``, ``batch`` rows per transaction."""
    now = clock.now()
    cutoff = retention_cutoff(now, days)
    async with uow_factory() as uow:
        found, unsent = await _survey(uow, cutoff)
    redacted = dict.fromkeys(TextKind, 0)
    for kind in TextKind:
        if not found[kind].count:
            continue
        while True:
            async with uow_factory() as uow:
                done = await _redact_batch(uow, kind, cutoff, now, batch)
            redacted[kind] += done
            # A short batch means nothing is left, or the rest is locked by someone (PostgreSQL skips
            # locked rows): those go at the next run.
            if done < batch:
                break
    async with uow_factory() as uow:
        pruned = await uow.events.prune(now - EVENT_IDS_KEPT)
    async with uow_factory() as uow:
        variants = await uow.outbox.forget_variants(now - VARIANTS_KEPT)
    report = RetentionReport(cutoff, days, found, redacted, unsent, pruned, variants)
    if report.total_redacted:
        log.info("text retention (%s days): removed the text of %s questions, %s replies and %s messages "
                 "from before %s", days, redacted[TextKind.QUESTIONS], redacted[TextKind.REPLIES],
                 redacted[TextKind.MESSAGES], cutoff.isoformat())
    if pruned:
        log.info("forgot %s platform event ids received before %s", pruned, (now - EVENT_IDS_KEPT).isoformat())
    if variants:
        log.info("cleared the text variant of %s messages queued before %s", variants,
                 (now - VARIANTS_KEPT).isoformat())
    return report
