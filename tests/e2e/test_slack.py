"""Slack end to end: signed requests into the real bolt app over HTTP, a fake Slack Web API out."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from tests.e2e import slack_requests as sr
from tests.e2e.loopback import until
from tests.e2e.slack_bot import SECRET, USERS, running_slack_bot


@pytest.fixture
async def bot(sqlite_database_url):
    async with running_slack_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as running:
        yield running


async def quick_ask(bot, text="<@UANNA|anna> Mag ik deze offerte goedkeuren? | inschatting: ja | twijfel") -> int:
    status, _ = await bot.command("sanne", text)
    assert status == 200
    await until(lambda: bot.rows("SELECT delivered_at FROM questions WHERE delivered_at IS NOT NULL"))
    return bot.rows("SELECT max(id) FROM questions")[0][0]


async def test_quick_ask_reaches_expert_in_a_group_dm_with_werk_gunst_buttons(bot):
    qid = await quick_ask(bot)
    [confirmation] = await bot.fake.wait_for_response()
    assert "Je vraag (#1) staat bij Anna" in confirmation.body["text"]
    assert confirmation.body["response_type"] == "ephemeral"
    question = next(c for c in bot.fake.calls("chat.postMessage") if "Vraag #1" in c.args["text"])
    assert bot.fake.opened[question.args["channel"]] == sorted([USERS["sanne"], USERS["anna"]])
    actions = [e["action_id"] for b in question.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["tag_werk", "tag_gunst"]  # no topic: nothing to remember
    assert bot.rows("SELECT text, first_assessment, kind, tag, tag_source FROM questions WHERE id=?", qid) == [
        ("Mag ik deze offerte goedkeuren?", "ja", "doubt", "werk", "default")]
    [(thread_ref,)] = bot.rows("SELECT thread_ref FROM questions WHERE id=?", qid)
    assert thread_ref.startswith(question.args["channel"] + ":")  # later thread replies find the question


async def test_bare_command_opens_the_modal_and_submission_asks(bot):
    status, _ = await bot.command("sanne", "")
    assert status == 200
    [opened] = await bot.fake.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "vraag_modal"
    assert opened.args["trigger_id"].startswith("trigger-")
    values = {
        "expert": {"value": {"type": "users_select", "selected_user": USERS["anna"]}},
        "topic": {"value": {"type": "plain_text_input", "value": "Contracten"}},
        "question": {"value": {"type": "plain_text_input", "value": "Klopt deze opzegtermijn?"}},
        "assessment": {"value": {"type": "plain_text_input", "value": "drie maanden"}},
        "kind": {"value": {"type": "radio_buttons", "selected_option": {"value": "complex"}}},
        "urgent": {"value": {"type": "checkboxes", "selected_options": [{"value": "urgent"}]}},
    }
    body = sr.view_submission("vraag_modal", values, user_id=USERS["sanne"], user_name="sanne",
                              private_metadata="nl")
    status, text = await bot.post(body, sr.FORM)
    assert status == 200 and text == ""
    await until(lambda: bot.rows("SELECT delivered_at FROM questions WHERE delivered_at IS NOT NULL"))
    assert bot.rows("SELECT topic, first_assessment, kind, urgent FROM questions") == [
        ("contracten", "drie maanden", "complex", 1)]
    await until(lambda: any("staat bij Anna" in t for t in bot.texts_to("sanne")))


async def test_modal_without_expert_or_topic_shows_a_field_error_and_stores_nothing(bot):
    values = {"question": {"value": {"type": "plain_text_input", "value": "Aan wie?"}}}
    body = sr.view_submission("vraag_modal", values, user_id=USERS["sanne"], user_name="sanne",
                              private_metadata="nl")
    status, text = await bot.post(body, sr.FORM)
    assert status == 200
    assert json.loads(text) == {"response_action": "errors", "errors": {"expert": "Kies een collega of vul een "
                                                                                  "onderwerp in."}}
    await asyncio.sleep(0.3)
    assert bot.counts()["questions"] == 0


async def test_werk_gunst_button_by_the_expert_tags_the_question(bot):
    qid = await quick_ask(bot)
    status, _ = await bot.press("anna", "tag_gunst", str(qid))
    assert status == 200
    await until(lambda: bot.rows("SELECT tag FROM questions WHERE tag = 'gunst'"))
    assert bot.rows("SELECT tag, tag_source FROM questions") == [("gunst", "expert")]
    replies = await bot.fake.wait_for_response(count=2)
    assert "vraag #1 is een gunst" in replies[-1].body["text"]


async def test_someone_elses_button_press_is_refused_and_changes_nothing(bot):
    qid = await quick_ask(bot)
    before = bot.counts()
    await bot.press("lotte", "tag_gunst", str(qid))
    replies = await bot.fake.wait_for_response(count=2)
    assert "Alleen de expert" in replies[-1].body["text"]
    assert bot.rows("SELECT tag_source FROM questions") == [("default",)]
    assert {k: v for k, v in bot.counts().items() if k != "people"} == {
        k: v for k, v in before.items() if k != "people"}


async def test_thread_reply_is_recorded_and_the_asker_gets_private_outcome_buttons(bot):
    qid = await quick_ask(bot)
    status, _ = await bot.thread_reply("anna", qid, "Jep, helemaal juist 🙂 Goed dat je het checkt.")
    assert status == 200
    await until(lambda: bot.rows("SELECT id FROM replies"))
    assert bot.rows("SELECT curt FROM replies") == [(0,)]
    [ephemeral] = await bot.fake.wait_for("chat.postEphemeral")
    assert ephemeral.args["user"] == USERS["anna"] and "is bij Sanne" in ephemeral.args["text"]
    prompt = await until(lambda: [t for t in bot.texts_to("sanne") if "Hoe liep vraag #1 af?" in t])
    assert prompt
    assert not [t for t in bot.texts_to("sanne") if "Antwoord van Anna" in t]  # she read it in the thread


async def test_curt_reply_sends_the_asker_a_private_reframing_and_the_expert_nothing(bot):
    qid = await quick_ask(bot)
    await bot.thread_reply("anna", qid, "Staat gewoon in de handleiding, had je zelf kunnen lezen. "
                                        "Zoals ik al zei: eerst zelf zoeken.")
    await until(lambda: bot.rows("SELECT kind FROM signals"))
    assert bot.rows("SELECT kind FROM signals") == [("curt_detected",)]
    await until(lambda: [t for t in bot.texts_to("sanne") if "Anna" not in t and  # issue 11 #6: no name
                         ("timing" in t or "drukte" in t or "oordeel" in t)])
    assert not any("kortaf" in t or "drukte" in t for t in bot.texts_to("anna"))


async def test_confirmation_outcome_and_curt_report_from_the_askers_buttons(bot):
    qid = await quick_ask(bot)
    await bot.thread_reply("anna", qid, "Klopt.")
    await until(lambda: bot.rows("SELECT id FROM replies"))
    await bot.press("sanne", "felt_curt", str(qid))
    await bot.press("sanne", "outcome_confirmed", str(qid))
    await until(lambda: len(bot.rows("SELECT id FROM signals")) >= 2)
    kinds = {k for (k,) in bot.rows("SELECT kind FROM signals")}
    assert {"curt_reported", "confirmation_only"} <= kinds
    assert bot.rows("SELECT outcome, status FROM questions") == [("confirmed", "closed")]
    await until(lambda: [t for t in bot.texts_to("sanne") if "inschatting klopte" in t.lower()
                         or "bevestiging" in t.lower()])


async def test_retried_event_is_recorded_once(bot):
    qid = await quick_ask(bot)
    [(thread_ref,)] = bot.rows("SELECT thread_ref FROM questions")
    channel, thread_ts = thread_ref.split(":", 1)
    event = sr.thread_reply_event("Ja, dat klopt.", user=USERS["anna"], channel=channel, thread_ts=thread_ts,
                                  ts="1800000000.000200")
    for retry in (None, "1", "2"):
        headers = {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        status, _ = await bot.event(event, event_id="EvRETRIED", headers=headers)
        assert status == 200
    await until(lambda: bot.rows("SELECT id FROM replies"))
    await asyncio.sleep(0.5)  # give the retries' lazy listeners time to (not) write
    assert bot.rows("SELECT count(*) FROM replies") == [(1,)]
    assert bot.rows("SELECT count(*) FROM processed_events WHERE event_id = 'EvRETRIED'") == [(1,)]
    assert qid == 1


@pytest.mark.parametrize("secret", ["wrong-secret", None])
async def test_forged_or_missing_signature_is_refused_and_stores_nothing(bot, secret):
    body = sr.slash_command("<@UANNA|anna> Mag dit?", user_id=USERS["sanne"], user_name="sanne",
                            response_url=bot.fake.response_url("x"), enterprise_id=None)
    if secret:
        status, text = await bot.post(body, sr.FORM, secret=secret)
    else:
        async with bot.session.post(f"{bot.url}/slack/events", data=body,
                                    headers={"Content-Type": sr.FORM}) as response:
            status, text = response.status, await response.text()
    assert status == 401 and json.loads(text) == {"error": "invalid request"}
    await asyncio.sleep(0.3)
    assert bot.counts()["questions"] == 0 and bot.counts()["people"] == 0
    assert bot.fake.calls("chat.postMessage") == []


async def test_stale_timestamp_is_refused(bot):
    body = sr.slash_command("help", user_id=USERS["sanne"], user_name="sanne",
                            response_url=bot.fake.response_url("x"), enterprise_id=None)
    status, _, _ = await sr.post_signed(bot.session, f"{bot.url}/slack/events", body, secret=SECRET,
                                        content_type=sr.FORM, timestamp=int(time.time()) - 600)
    assert status == 401


async def test_rate_limited_post_waits_and_retries_without_losing_the_question(bot):
    bot.fake.rate_limit("chat.postMessage", times=1, retry_after=1)
    await quick_ask(bot)
    posts = bot.fake.calls("chat.postMessage")
    assert posts[0].limited and not posts[1].limited
    assert posts[0].args["text"] == posts[1].args["text"] and "Vraag #1" in posts[1].args["text"]


async def test_rate_limit_longer_than_the_sdk_waits_is_retried_from_the_outbox(bot):
    bot.fake.rate_limit("chat.postMessage", times=3, retry_after=0)  # SDK retries twice, then gives up
    await quick_ask(bot)
    posts = [c for c in bot.fake.calls("chat.postMessage") if "Vraag #1" in c.args["text"]]
    assert [p.limited for p in posts] == [True, True, True, False]
    assert bot.rows("SELECT status, attempts FROM outbox WHERE kind = 'question'") == [("sent", 2)]


async def test_dnd_holds_the_question_until_it_ends(bot):
    now = int(time.time())
    bot.fake.set_dnd(USERS["anna"], now - 60, now + 3)
    await bot.command("sanne", "<@UANNA|anna> Kan dit wachten?")
    [told] = await bot.fake.wait_for_response()
    assert "focustijd" in told.body["text"]
    assert bot.rows("SELECT status FROM questions") == [("held",)]
    await asyncio.sleep(1)
    assert not [c for c in bot.fake.calls("chat.postMessage") if "Vraag #1" in c.args["text"]]
    await until(lambda: bot.rows("SELECT status FROM questions WHERE status = 'delivered'"), seconds=8)
    assert [c for c in bot.fake.calls("chat.postMessage") if "Vraag #1" in c.args["text"]]


async def test_app_home_shows_own_figures_and_topics(bot):
    await bot.command("anna", "rol contracten, privacy")
    await bot.fake.wait_for_response()
    qid = await quick_ask(bot)
    await bot.thread_reply("anna", qid, "Klopt.")
    await until(lambda: bot.rows("SELECT id FROM replies"))
    await bot.event(sr.app_home_opened_event(USERS["anna"]))
    [published] = await bot.fake.wait_for("views.publish")
    assert published.args["user_id"] == USERS["anna"]
    text = json.dumps(published.args["view"], ensure_ascii=False)
    assert "Vragen die je beantwoordde: 1" in text and "#contracten" in text and "#privacy" in text


async def test_data_export_as_a_file_and_deletion(bot):
    await quick_ask(bot)
    await bot.command("sanne", "mijn-gegevens")
    summary = (await bot.fake.wait_for_response(2))[-1]
    assert "vragen die je stelde: 1" in summary.body["text"]
    await bot.press("sanne", "export_data", "0")
    await until(lambda: bot.fake.uploaded_files())
    [upload] = bot.fake.uploaded_files()
    data = json.loads(upload.content)
    assert data["person"]["platform_user_id"] == USERS["sanne"]
    assert data["questions"][0]["text"] == "Mag ik deze offerte goedkeuren?"
    assert bot.fake.opened[upload.channel_id] == [USERS["sanne"]]  # her own DM, nobody else's

    await bot.command("sanne", "vergeet-mij")
    prompt = (await bot.fake.wait_for_response(3))[-1]
    [confirm] = [e for b in prompt.body["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == "forget_confirm"]
    await bot.press("sanne", "forget_confirm", confirm["value"])
    await until(lambda: not bot.rows("SELECT id FROM people WHERE external_id = ?", USERS["sanne"]))
    assert bot.rows("SELECT count(*) FROM questions") == [(0,)]


async def test_help_comes_in_the_users_own_language(bot):
    await bot.command("bram", "help")  # bram's Slack locale is en-US
    [help_text] = await bot.fake.wait_for_response()
    assert help_text.body["text"].startswith("vraagbot helps you consult an expert")
    await bot.command("sanne", "help")
    assert (await bot.fake.wait_for_response(2))[-1].body["text"].startswith("vraagbot helpt je")


async def test_app_home_adds_topics_through_a_modal_and_removes_them_with_a_button(bot):
    await bot.event(sr.app_home_opened_event(USERS["anna"]))
    await bot.fake.wait_for("views.publish")
    body = sr.block_action("open_topics_modal", "open", user_id=USERS["anna"], user_name="anna",
                           response_url="", trigger_id="trigger-home")
    await bot.post(body, sr.FORM)
    [opened] = await bot.fake.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "topics_modal"
    values = {"topics": {"value": {"type": "plain_text_input", "value": "contracten, privacy"}}}
    status, _ = await bot.post(sr.view_submission("topics_modal", values, user_id=USERS["anna"], user_name="anna"),
                               sr.FORM)
    assert status == 200
    await until(lambda: len(bot.rows("SELECT topic FROM expert_topics")) == 2)
    home = (await bot.fake.wait_for("views.publish", count=2))[-1]
    assert "#privacy" in json.dumps(home.args["view"])
    await bot.press("anna", "remove_topic", "privacy")
    await until(lambda: bot.rows("SELECT topic FROM expert_topics") == [("contracten",)])
