"""A synthetic organisation with planted effects, for proving that the impact report can find them
(tests/unit/test_impact.py, tests/e2e/test_impact_report.py) and for the benchmark (bench/impact.py).

Every person asks, gets an answer, and then asks again or does not. What follows a question is drawn:
a curt reply, an answer that only confirmed their assessment, one with new information, or no outcome.
Whether they ask again within FOLLOW_UP_DAYS is drawn with the planted probability for that case, and
the next question is placed inside or outside that window accordingly, so the true return-to-ask rate
of every group and text variant is known exactly. Reframing texts rotate per person as the bot rotates
them (the n-th curt nudge a person gets is variant n mod the number of variants).

Rows are written straight into the tables with SQLAlchemy Core (thousands per statement), as the bot
would have stored them: questions, the curt and confirmation signals, and the sent nudges with their
variant numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from handlers.impact import FOLLOW_UP_DAYS
from handlers.models import MessageKind, Outcome, QuestionKind, QuestionStatus, SignalKind, Tag, TagSource
from storage.tables import OutboxMessage, Person, Question, Signal, Workspace

TOPICS = ("contracten", "privacy", "rooster", "budget", "planning", "excel", "kassa", "offerte", "vpn", "klant")


@dataclass(frozen=True)
class Planted:
    """The true effects: the chance of asking again within FOLLOW_UP_DAYS after each kind of answer."""

    after_new_info: float = 0.80
    curt_drop: float = 0.40  # a curt reply lowers it by this much
    confirmed_drop: float = 0.20  # an answer that only confirmed lowers it by this much
    restores: dict[int, float] = field(default_factory=lambda: {1: 0.20})  # curt text variant -> gives back
    curt_variants: int = 3
    confirmation_variants: int = 3
    # What follows a question (the rest: no outcome marked, no curt reply).
    share_curt: float = 0.20
    share_confirmed: float = 0.35
    share_new_info: float = 0.35

    def curt(self, variant: int) -> float:
        return self.after_new_info - self.curt_drop + self.restores.get(variant, 0.0)

    @property
    def confirmed(self) -> float:
        return self.after_new_info - self.confirmed_drop

    @property
    def otherwise(self) -> float:  # no outcome, no curt reply: as after new information
        return self.after_new_info


NO_EFFECT = Planted(curt_drop=0.0, confirmed_drop=0.0, restores={})


@dataclass
class Organisation:
    workspace_id: int
    people: list[int]
    rows: dict[str, list[dict[str, Any]]]  # table -> rows
    planted: Planted

    @property
    def questions(self) -> int:
        return len(self.rows["questions"])


def generate(*, people: int, start: datetime, end: datetime, planted: Planted, seed: int = 17,
             workspace_id: int = 1, first_person_id: int = 1, first_question_id: int = 1,
             first_row_id: int = 1, external_id: str = "T1") -> Organisation:
    """An organisation of ``people`` asking between ``start`` and ``end``; nothing after ``end``. Each person's
    questions come from a random stream of their own, so a later ``end`` (a test run later in the day) adds to
    each person's last questions and leaves everyone else's as they were."""
    ids = list(range(first_person_id, first_person_id + people))
    rows: dict[str, list[dict[str, Any]]] = {"workspaces": [], "people": [], "questions": [], "signals": [],
                                              "outbox": []}
    rows["workspaces"].append({"id": workspace_id, "platform": "slack", "external_id": external_id,
                               "name": f"Synthetic {external_id}"})
    for pid in ids:
        rows["people"].append({"id": pid, "workspace_id": workspace_id, "external_id": f"U{pid:07d}",
                               "handle": f"p{pid}", "display_name": f"Persoon {pid}", "locale": "nl",
                               "time_zone": "Europe/Amsterdam", "recognition_opt_out": False, "unreachable": False,
                               "created_at": start - timedelta(days=30)})
    next_question, next_row = first_question_id, first_row_id
    for asker in ids:
        rng = random.Random(f"{seed}:{asker}")
        rotation = {MessageKind.NUDGE_CURT: 0, MessageKind.NUDGE_CONFIRMATION: 0}
        moment = start + timedelta(days=rng.uniform(0, 20))
        while moment < end:
            expert = rng.choice([p for p in ids if p != asker]) if len(ids) > 1 else asker
            qid, next_question = next_question, next_question + 1
            replied = moment + timedelta(hours=rng.uniform(0.2, 6))
            event = replied + timedelta(hours=rng.uniform(0.1, 20))
            draw = rng.random()
            outcome = None
            if draw < planted.share_curt:
                variant = rotation[MessageKind.NUDGE_CURT] % planted.curt_variants
                rotation[MessageKind.NUDGE_CURT] += 1
                chance = planted.curt(variant)
                rows["signals"].append({"question_id": qid, "subject_id": expert, "reporter_id": None,
                                        "kind": SignalKind.CURT_DETECTED.value, "created_at": replied,
                                        "details": {}})
                rows["outbox"].append(_nudge(next_row, asker, qid, MessageKind.NUDGE_CURT, variant, replied))
                next_row += 1
                event = replied
                outcome = rng.choice([None, Outcome.NEW_INFO, Outcome.CONFIRMED])  # curt comes first in the report
            elif draw < planted.share_curt + planted.share_confirmed:
                variant = rotation[MessageKind.NUDGE_CONFIRMATION] % planted.confirmation_variants
                rotation[MessageKind.NUDGE_CONFIRMATION] += 1
                chance, outcome = planted.confirmed, Outcome.CONFIRMED
                rows["signals"].append({"question_id": qid, "subject_id": asker, "reporter_id": asker,
                                        "kind": SignalKind.CONFIRMATION_ONLY.value, "created_at": event,
                                        "details": {}})
                rows["outbox"].append(_nudge(next_row, asker, qid, MessageKind.NUDGE_CONFIRMATION, variant, event))
                next_row += 1
            elif draw < planted.share_curt + planted.share_confirmed + planted.share_new_info:
                chance, outcome = planted.after_new_info, Outcome.NEW_INFO
            else:
                chance = planted.otherwise
            in_role = rng.random() < 0.4
            rows["questions"].append({
                "id": qid, "workspace_id": workspace_id, "asker_id": asker, "expert_id": expert,
                "topic": rng.choice(TOPICS), "text": None, "first_assessment": None,
                "kind": rng.choice([QuestionKind.DOUBT.value, QuestionKind.COMPLEX.value]), "kind_shared": False,
                "urgent": False, "tag": Tag.WERK.value if rng.random() < 0.7 else Tag.GUNST.value,
                "tag_source": TagSource.TOPIC_RULE.value if in_role else TagSource.DEFAULT.value,
                "tagged_at": moment,
                "status": QuestionStatus.CLOSED.value if outcome else QuestionStatus.ANSWERED.value,
                "asked_at": moment, "deliver_after": None, "delivered_at": moment, "interrupted_focus": False,
                "first_reply_at": replied, "outcome": outcome.value if outcome else None,
                "outcome_at": event if outcome else None, "thread_ref": f"t{qid}", "text_redacted_at": moment,
            })
            # The next question: inside the follow-up window when they return, well outside it otherwise.
            if rng.random() < chance:
                moment = event + timedelta(days=rng.uniform(0.5, FOLLOW_UP_DAYS - 0.5))
            else:
                moment = event + timedelta(days=rng.uniform(FOLLOW_UP_DAYS + 1, FOLLOW_UP_DAYS + 40))
    return Organisation(workspace_id, ids, rows, planted)


def _nudge(row_id: int, person: int, question: int, kind: MessageKind, variant: int, at: datetime) -> dict[str, Any]:
    return {"id": row_id, "dedupe_key": f"p{person}:{kind}:q{question}", "person_id": person, "channel": None,
            "kind": kind.value, "period": f"q{question}", "payload": {"kind": kind.value, "text": None},
            "question_id": question, "status": "sent", "due_at": at, "attempts": 1, "last_error": None,
            "created_at": at, "sent_at": at, "text_redacted_at": at, "attempt_started_at": None,
            "text_variant": variant}


TABLES = (("workspaces", Workspace), ("people", Person), ("questions", Question), ("signals", Signal),
          ("outbox", OutboxMessage))


async def write(connection: AsyncConnection, organisation: Organisation, *, chunk: int = 5000) -> None:
    """Insert the organisation's rows (in one transaction: the caller's connection.begin())."""
    for name, table in TABLES:
        rows = organisation.rows[name]
        for i in range(0, len(rows), chunk):
            await connection.execute(insert(table), rows[i:i + chunk])


async def next_ids(connection: AsyncConnection) -> dict[str, int]:
    """The first free ids, to add an organisation to a database that has data already."""
    found = {}
    for name, column in (("workspace", Workspace.id), ("person", Person.id), ("question", Question.id),
                         ("row", OutboxMessage.id)):
        found[name] = int(await connection.scalar(select(func.coalesce(func.max(column), 0))) or 0) + 1
    return found


