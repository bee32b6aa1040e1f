"""Correctly signed Slack requests by people acting on someone else's question or data: werk/gunst buttons
by anyone but the expert, outcome buttons by anyone but the asker, forget-me confirmations carrying another
person's id, exports, thread replies by others, and commands. Property: never a 5xx, the question and the
victims' rows stay exactly as they were, and no export holds anyone else's data."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.e2e import slack_requests as sr
from tests.e2e.loopback import until
from tests.e2e.slack_bot import USERS
from tests.fuzz import budget
from tests.fuzz.budget import fuzz
from tests.fuzz.harness import entered, settle, slack_target, slack_world

BATCH = 6
EVE = "UEVE"  # a Slack user the bot has never seen
QUESTION_TEXT = "Mag ik deze offerte goedkeuren?"
id_spellings = st.sampled_from(["{}", "0{}", " {}", "{} ", "+{}", "{}.0", "{}\n"])


@pytest.fixture(scope="module")
def slack(loop_thread, module_database, database_errors):
    with entered(loop_thread, slack_target(*module_database)) as (bot, runtime):
        ids = loop_thread.run(slack_world(bot, runtime))
        yield loop_thread, bot, runtime, ids


def attacks(ids: dict[str, int]) -> st.SearchStrategy:
    qid = ids["question"]
    not_expert = st.sampled_from([USERS["sanne"], USERS["lotte"], USERS["bram"], EVE])
    not_asker = st.sampled_from([USERS["anna"], USERS["lotte"], USERS["bram"], EVE])
    anyone = st.sampled_from([*USERS.values(), EVE])
    own = {USERS[who]: ids[who] for who in USERS}
    return st.one_of(
        st.tuples(st.just("press"), not_expert, st.sampled_from(["tag_werk", "tag_werk_remember", "tag_gunst"]),
                  id_spellings.map(lambda s: s.format(qid))),
        st.tuples(st.just("press"), not_asker, st.sampled_from(["outcome_confirmed", "outcome_new_info", "felt_curt"]),
                  id_spellings.map(lambda s: s.format(qid))),
        # someone else's person id on the forget-me confirmation
        anyone.flatmap(lambda user: st.tuples(st.just("press"), st.just(user), st.just("forget_confirm"),
                                              st.sampled_from([str(v) for u, v in own.items() if u != user]))),
        st.tuples(st.just("press"), st.sampled_from([USERS["lotte"], USERS["bram"], EVE]), st.just("export_data"),
                  st.sampled_from(["0", str(ids["sanne"]), str(ids["anna"])])),
        st.tuples(st.just("press"), not_expert, st.just("remove_topic"), st.just("contracten")),  # Anna's topic
        st.tuples(st.just("thread"), not_expert, st.just(""), st.text(max_size=40)),
        st.tuples(st.just("command"), st.sampled_from([USERS["lotte"], USERS["bram"], EVE]),
                  st.sampled_from(["mijn-gegevens", "vergeet-mij", "rol weg contracten", "rol"]),
                  st.just("")),
    )


def victims(bot, ids) -> dict[str, list[tuple]]:
    """Everything of Sanne's and Anna's an attack could touch."""
    people = (ids["sanne"], ids["anna"])
    return {
        "question": bot.rows("SELECT * FROM questions WHERE id = ?", ids["question"]),
        "replies": bot.rows("SELECT * FROM replies ORDER BY id"),
        "signals": bot.rows("SELECT * FROM signals ORDER BY id"),
        "people": bot.rows("SELECT * FROM people WHERE id IN (?, ?) ORDER BY id", *people),
        "topics": bot.rows("SELECT * FROM expert_topics WHERE person_id IN (?, ?) ORDER BY topic", *people),
        "outbox": bot.rows("SELECT id, kind, person_id, question_id FROM outbox WHERE person_id IN (?, ?) "
                           "ORDER BY id", *people),
    }


async def send(bot, attack) -> int:
    kind, user, action, value = attack
    name = f"x{time.monotonic_ns()}"
    if kind == "press":
        body = sr.block_action(action, value, user_id=user, user_name="x", response_url=bot.fake.response_url(name),
                               trigger_id=f"trigger-{name}")
        return (await bot.post(body, sr.FORM))[0]
    if kind == "command":
        body = sr.slash_command(action, user_id=user, user_name="x", response_url=bot.fake.response_url(name),
                                trigger_id=f"trigger-{name}", enterprise_id=None)
        return (await bot.post(body, sr.FORM))[0]
    [(thread_ref,)] = bot.rows("SELECT thread_ref FROM questions WHERE id = 1")
    channel, thread_ts = thread_ref.split(":", 1)
    event = sr.thread_reply_event(value or "Nee hoor, dat mag niet.", user=user, channel=channel,
                                  thread_ts=thread_ts, ts=f"{time.time():.6f}")
    return (await bot.event(event))[0]


def test_nobody_acts_on_another_persons_question_or_data(slack, backend, database_errors):
    loop, bot, runtime, ids = slack
    before = victims(bot, ids)
    sent = []
    requests_to_send = budget.share(budget.SLACK_CROSS_PERSON, backend)

    @fuzz(requests_to_send // BATCH, backend)
    @given(st.lists(attacks(ids), min_size=BATCH, max_size=BATCH))
    def attack(batch):
        async def run():
            statuses = await asyncio.gather(*(send(bot, a) for a in batch))
            await settle(runtime)
            return statuses

        statuses = loop.run(run())
        sent.extend(statuses)
        assert all(s < 500 for s in statuses), statuses
        assert victims(bot, ids) == before, "an attack changed someone else's question or data"
        for upload in bot.fake.uploaded_files():
            [owner] = bot.fake.opened[upload.channel_id]
            data = json.loads(upload.content)
            assert data["person"]["platform_user_id"] == owner, "an export went to someone else"
            assert QUESTION_TEXT not in upload.content.decode(), "an export held someone else's question"

    attack()
    assert len(sent) >= requests_to_send
    assert bot.fake.uploaded_files(), "no export was made at all: the export check checked nothing"
    # The same request by the person it belongs to does work: the checks above could have failed.
    loop.run(bot.press("anna", "tag_gunst", str(ids["question"])))
    loop.run(until(lambda: bot.rows("SELECT id FROM questions WHERE tag = 'gunst'")))
    assert database_errors.records == [], "work after an ack failed in the database"
