"""A person's own figures: what they asked, what they answered, their topics. Only ever their own."""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.context import Actor, Deps
from handlers.models import Outcome, normalise_locale
from handlers.people import ensure_person
from handlers.personal_data import curt_months


@dataclass(frozen=True)
class Overview:
    locale: str
    asked: int = 0
    asked_confirmed: int = 0  # their questions that confirmed their own assessment
    answered: int = 0  # questions asked of them that they answered
    answered_confirmations: int = 0  # of those, how many confirmed the asker's assessment
    open_for_them: int = 0
    curt_signals_about_them: int = 0  # replies of theirs that felt curt, up to the end of last month
    topics: list[str] = field(default_factory=list)


async def my_overview(deps: Deps, actor: Actor) -> Overview:
    async with deps.uow() as uow:
        person = await ensure_person(uow, deps, actor)
        asked = await uow.questions.asked_by(person.id)
        received = await uow.questions.answered_by(person.id)
        signals = await uow.signals.about(person.id)
        topics = [t.topic for t in await uow.topics.list_for(person.id)]
    answered = [q for q in received if q.first_reply_at is not None]
    return Overview(
        locale=normalise_locale(person.locale, deps.policy.default_locale),
        asked=len(asked),
        asked_confirmed=sum(q.outcome == Outcome.CONFIRMED for q in asked),
        answered=len(answered),
        answered_confirmations=sum(q.outcome == Outcome.CONFIRMED for q in answered),
        open_for_them=sum(q.first_reply_at is None for q in received),
        # The same rule as their data export: one number, finished months only (docs/architecture.md).
        curt_signals_about_them=sum(curt_months(person, signals, deps.clock.now()).values()),
        topics=topics,
    )
