"""Held questions on a platform whose presence has no end time (Teams: Graph says someone is in a call
or in focus, not until when). Such a question is held until a first look, looked at again just before it
would go out, and held longer while the expert is still busy, at ever longer steps; once the bound has
passed since asking it goes out whatever the presence says. Anything that cannot be known means "deliver".

The outbox asks ``question_waits`` right before it sends a question (outside any transaction, since it may
ask the platform), moves the row when the answer is a later moment, and then runs ``held_longer`` in the
transaction that moved it. The asker's "delivered now" notice asks ``notice_waits``, so it never goes out
ahead of the question it announces."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers.models import MessageKind, QuestionStatus
from handlers.ports import Clock, Presence, Recheck, UnitOfWork, UnitOfWorkFactory

# The notice of a question whose own send is under way looks again this soon: that send takes a moment.
NOTICE_PAUSE = timedelta(seconds=2)


def recheck_of(presence: Presence, platform: str) -> Recheck | None:
    """The platform's Recheck when its focus_until is only a time to look again, else None."""
    recheck = getattr(presence, "recheck", None)
    return recheck(platform) if recheck is not None else None


def next_look(asked_at: datetime, now: datetime, focus_end: datetime, recheck: Recheck) -> datetime | None:
    """When to look at a held question again, or None when it goes out now (the bound has passed). Each
    step is as long as the question has waited so far (at least ``recheck.first``), so the looks come
    10, 20, 40, 80 minutes after asking (with first = 10 min), and the last one at the bound."""
    latest = asked_at + recheck.bound
    if now >= latest:
        return None
    step = max(recheck.first, now - asked_at)
    return min(max(focus_end, now + step), latest)


async def question_waits(uow: UnitOfWorkFactory, clock: Clock, presence: Presence,
                         question_id: int) -> datetime | None:
    """Just before a question goes out: a later moment when it is held for an expert who is still busy,
    else None. Questions held for a known end (Slack), sent now by the asker, or not held go out."""
    async with uow() as work:
        question = await work.questions.get(question_id)
        if question is None or question.status != QuestionStatus.HELD or question.urgent \
                or question.expert_id is None:
            return None
        expert = await work.people.get(question.expert_id)
        workspace = await work.workspaces.get(question.workspace_id)
    if expert is None or workspace is None:
        return None
    recheck = recheck_of(presence, workspace.platform)
    if recheck is None or clock.now() >= question.asked_at + recheck.bound:
        return None
    focus_end = await presence.focus_until(expert, workspace.platform)  # a network call: no transaction open
    if focus_end is None:
        return None
    return next_look(question.asked_at, clock.now(), focus_end, recheck)


async def held_longer(uow: UnitOfWork, question_id: int, until: datetime) -> None:
    """In the transaction that moved the question's own row to ``until``: the question says so (the
    asker's "send now" compares with it), and the asker's notice waits with it."""
    question = await uow.questions.get_for_update(question_id)
    if question is None:
        return
    question.deliver_after = until
    for row in await uow.outbox.pending_for_question(question_id, lock=True):
        if row.kind == MessageKind.QUESTION_NOTICE and row.attempt_started_at is None:
            await uow.outbox.postpone(row.id, until)


async def notice_waits(uow: UnitOfWorkFactory, clock: Clock, question_id: int) -> datetime | None:
    """Just before the asker's "your question is delivered now" goes out: while the question itself still
    waits (held longer, or its send under way), the notice waits for it."""
    async with uow() as work:
        question = await work.questions.get(question_id)
        if question is None or question.status != QuestionStatus.HELD:
            return None
        rows = [r for r in await work.outbox.pending_for_question(question_id) if r.kind == MessageKind.QUESTION]
    if not rows:  # sent, failed or withdrawn: nothing to wait for
        return None
    now = clock.now()
    row = rows[0]
    if row.attempt_started_at is not None or row.due_at <= now:
        return now + NOTICE_PAUSE
    return row.due_at
