"""Teams activities by people acting on someone else's question or data: werk/gunst by anyone but the
expert, outcomes by anyone but the asker, answers by others, forget-me confirmations carrying another
person's id, exports, as Action.Submit messages and as Action.Execute invokes. Property: never a 5xx, the
question and the victims' rows stay exactly as they were, and nobody receives someone else's question."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.e2e import teams_activities as ta
from tests.e2e.loopback import until
from tests.e2e.teams_bot import NAMES, USERS
from tests.e2e.test_teams import CARD_KEY, ask_anna
from tests.fuzz import budget
from tests.fuzz.budget import fuzz
from tests.fuzz.harness import entered, quiet, teams_target
from tests.fuzz.test_slack_cross_person import id_spellings, victims

BATCH = 5
EVE = "29:eve"  # a Teams user the bot has never seen
QUESTION_TEXT = "Mag ik deze offerte goedkeuren?"


async def teams_world(bot, runtime) -> dict[str, int]:
    """Sanne asked Anna question 1 and Anna answered it; Lotte uses the bot too."""
    await bot.say("lotte", "help")
    question_id = await ask_anna(bot, QUESTION_TEXT)
    await bot.submit("anna", {CARD_KEY: "answer", "value": str(question_id), "answer": "Klopt, dat mag."})
    await until(lambda: bot.rows("SELECT id FROM replies"))
    await quiet(bot.db_path, runtime)
    people = dict(bot.rows("SELECT external_id, id FROM people"))
    return {"question": question_id, **{who: people[uid] for who, uid in USERS.items()}}


@pytest.fixture(scope="module")
def teams(loop_thread, module_database):
    with entered(loop_thread, teams_target(*module_database)) as (bot, runtime):
        ids = loop_thread.run(teams_world(bot, runtime))
        yield loop_thread, bot, runtime, ids


def attacks(ids: dict[str, int]) -> st.SearchStrategy:
    qid = ids["question"]
    spelled = id_spellings.map(lambda s: s.format(qid))
    not_expert = st.sampled_from([USERS["sanne"], USERS["lotte"], EVE])
    not_asker = st.sampled_from([USERS["anna"], USERS["lotte"], EVE])
    anyone = st.sampled_from([*USERS.values(), EVE])
    own = {USERS[who]: ids[who] for who in USERS}
    how = st.sampled_from(["submit", "invoke"])
    return st.one_of(
        st.tuples(how, not_expert, st.sampled_from(["tag_werk", "tag_werk_remember", "tag_gunst"]),
                  spelled.map(lambda v: {"value": v})),
        st.tuples(how, not_asker, st.sampled_from(["outcome_confirmed", "outcome_new_info", "felt_curt"]),
                  spelled.map(lambda v: {"value": v})),
        st.tuples(how, not_expert, st.just("answer"),
                  st.builds(lambda v, t: {"value": v, "answer": t}, spelled, st.text(max_size=40))),
        anyone.flatmap(lambda user: st.tuples(how, st.just(user), st.just("forget_confirm"), st.sampled_from(
            [{"value": str(v)} for u, v in own.items() if u != user]))),
        st.tuples(how, st.sampled_from([USERS["lotte"], EVE]), st.just("export_data"),
                  st.sampled_from([{"value": v} for v in ("0", str(ids["sanne"]), str(ids["anna"]))])),
    )


async def send(bot, attack) -> int:
    how, user, verb, data = attack
    name = NAMES.get(next((who for who, uid in USERS.items() if uid == user), ""), "Eve")
    if how == "submit":
        activity = ta.personal_message("", user_id=user, user_name=name, service_url=bot.fake.service_url,
                                       value={CARD_KEY: verb, **data})
    else:
        activity = ta.invoke_action_execute(verb, data, user_id=user, user_name=name,
                                            service_url=bot.fake.service_url)
    return (await bot.post(activity))[0]


def test_nobody_acts_on_another_persons_question_or_data_over_teams(teams):
    loop, bot, runtime, ids = teams
    before = victims(bot, ids)
    own_chats = {bot.chat("sanne"), bot.chat("anna")}
    sent = []

    @fuzz(budget.TEAMS_CROSS_PERSON // BATCH)
    @given(st.lists(attacks(ids), min_size=BATCH, max_size=BATCH))
    def attack(batch):
        async def run():
            statuses = await asyncio.gather(*(send(bot, a) for a in batch))
            await quiet(bot.db_path, runtime)
            return statuses

        statuses = loop.run(run())
        sent.extend(statuses)
        assert all(s < 500 for s in statuses), statuses
        assert victims(bot, ids) == before, "an attack changed someone else's question or data"
        leaked = [s for s in bot.fake.delivered() if s.conversation_id not in own_chats
                  and QUESTION_TEXT in type(bot.fake).all_text(s.body)]
        assert leaked == [], "someone other than Sanne or Anna received the question"

    attack()
    assert len(sent) >= budget.TEAMS_CROSS_PERSON
    assert bot.fake.delivered(bot.chat("lotte")), "Lotte got no answer at all: the leak check checked nothing"
    # The same action by the person it belongs to does work: the checks above could have failed.
    loop.run(bot.submit("anna", {CARD_KEY: "tag_gunst", "value": str(ids["question"])}))
    loop.run(until(lambda: bot.rows("SELECT id FROM questions WHERE tag = 'gunst'")))
