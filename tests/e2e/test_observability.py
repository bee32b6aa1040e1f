"""/readyz, the metrics listener, request ids and JSON log lines, on the real app over HTTP."""

from __future__ import annotations

import asyncio
import json
import socket

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bot.app import METRICS_KEY, create_app
from bot.runtime import build_runtime
from bot.settings import load_settings
from storage.migrate import downgrade_to, upgrade_to_head
from storage.stats import COUNTED_OUTBOX_KINDS
from tests.e2e import slack_requests as sr
from tests.e2e.log_capture import captured_logs
from tests.e2e.loopback import serving, until
from tests.e2e.slack_bot import SECRET, USERS, running_slack_bot
from tests.e2e.test_slack import quick_ask

QUESTION = "Mag ik het GEHEIME-CONTRACT-7731 zo tekenen?"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
async def bot(sqlite_database_url):
    port = free_port()
    async with running_slack_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1],
                                 metrics_port=port) as running:
        running.metrics_url = f"http://127.0.0.1:{port}/metrics"
        yield running


@pytest.fixture
def json_logs():
    """Our logging set-up, writing into a buffer; pytest's own handlers are put back afterwards."""
    with captured_logs("INFO") as buffer:
        yield buffer


async def get(bot, path: str) -> tuple[int, str, dict[str, str]]:
    async with bot.session.get(f"{bot.url}{path}") as response:
        return response.status, await response.text(), dict(response.headers)


async def metrics(bot) -> dict[tuple[str, frozenset], float]:
    async with bot.session.get(bot.metrics_url) as response:
        status, text, headers = response.status, await response.text(), response.headers
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_readyz_is_ready_with_database_at_head_and_scheduler_running(bot):
    status, text, _ = await get(bot, "/readyz")
    assert status == 200, text
    assert json.loads(text) == {"status": "ready", "checks": {
        "database": "ok", "migrations": "ok", "scheduler": "ok", "shutdown": "no"}}


async def test_readyz_says_what_is_wrong_when_the_schema_is_behind_or_the_database_is_gone(tmp_path):
    url = f"sqlite:///{tmp_path}/behind.db"
    await asyncio.to_thread(upgrade_to_head, url)
    await asyncio.to_thread(downgrade_to, url, "0002")
    runtime = build_runtime(load_settings(database_url=url))
    async with serving(create_app(runtime, start_scheduler=False)) as base, aiohttp.ClientSession() as session:
        async with session.get(f"{base}/readyz") as response:
            behind = response.status, await response.json()
        (tmp_path / "behind.db").unlink()
        (tmp_path / "behind.db").mkdir()  # the file is now a directory: SQLite cannot open it
        await runtime.engine.dispose()
        async with session.get(f"{base}/readyz") as response:
            gone = response.status, await response.json()
        async with session.get(f"{base}/healthz") as response:
            alive = response.status
    assert behind[0] == 503
    assert behind[1]["checks"]["migrations"].startswith("at 0002, head is ")
    assert "vraagbot migrate" in behind[1]["checks"]["migrations"]
    assert gone[0] == 503 and gone[1]["checks"]["database"].startswith("unreachable")
    assert alive == 200  # the process itself is fine: restarting it would not help


async def test_readyz_is_not_ready_while_the_scheduler_is_stopped(bot, sqlite_database_url):
    runtime = build_runtime(load_settings(database_url=sqlite_database_url))
    async with serving(create_app(runtime)) as base, aiohttp.ClientSession() as session:
        await runtime.scheduler.stop()
        async with session.get(f"{base}/readyz") as response:
            status, body = response.status, await response.json()
    assert status == 503 and body["checks"]["scheduler"] == "not running"


async def test_metrics_count_requests_latency_questions_and_outbox(bot):
    before = await metrics(bot)
    qid = await quick_ask(bot)
    await bot.press("anna", "tag_werk", str(qid))
    await bot.thread_reply("anna", qid, "Dit staat gewoon in de handleiding, lees die eerst eens.")
    await until(lambda: bot.rows("SELECT count(*) FROM signals")[0][0] >= 1)
    status, _ = await bot.post(sr.slash_command("x", user_id="USANNE", user_name="sanne",
                                                response_url=bot.fake.response_url("forged")), sr.FORM,
                               secret="not-the-secret")
    assert status == 401
    await until(lambda: not bot.rows("SELECT id FROM outbox WHERE status = 'pending'"))
    after = await metrics(bot)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("vraagbot_requests_total", platform="slack", outcome="ok") == 3
    assert grew("vraagbot_requests_total", platform="slack", outcome="refused") == 1
    assert grew("vraagbot_ack_seconds_count", platform="slack") == 4
    assert value(after, "vraagbot_questions") == 1
    sent = sum(v for (name, labels), v in after.items()
               if name == "vraagbot_outbox_messages" and ("status", "sent") in labels)
    counted = ", ".join(f"'{kind}'" for kind in COUNTED_OUTBOX_KINDS)
    assert sent == bot.rows(f"SELECT count(*) FROM outbox WHERE status = 'sent' AND kind IN ({counted})")[0][0] > 0


async def test_metrics_show_the_inbox_backlog_its_depth_and_oldest_age(bot):
    """What waits for a worker is visible (issue 12): with the workers stopped, two acked commands wait."""
    await bot.runtime.inbox.stop(5)
    for who in ("sanne", "lotte"):
        status, _ = await bot.command(who, f"<@UANNA|anna> {QUESTION}")
        assert status == 200
    await asyncio.sleep(0.05)  # the oldest has waited a measurable moment
    waiting = await metrics(bot)
    assert value(waiting, "vraagbot_inbox_waiting") == 2
    assert value(waiting, "vraagbot_inbox_oldest_seconds") > 0
    bot.runtime.inbox.start()
    assert await bot.runtime.inbox.drain(20)
    assert len(bot.rows("SELECT id FROM questions")) == 2  # the backlog was worked, nothing lost
    idle = await metrics(bot)
    assert value(idle, "vraagbot_inbox_waiting") == 0 and value(idle, "vraagbot_inbox_oldest_seconds") == 0


async def test_metrics_count_web_api_rate_limits(bot):
    before = value(await metrics(bot), "vraagbot_web_api_rate_limited_total", platform="slack")
    bot.fake.rate_limit("chat.postMessage", times=1, retry_after=1)
    await quick_ask(bot)
    after = value(await metrics(bot), "vraagbot_web_api_rate_limited_total", platform="slack")
    assert after - before == 1


async def test_every_log_line_is_json_with_the_request_id_and_no_secret_or_message_text(bot, json_logs):
    qid = await quick_ask(bot, f"<@UANNA|anna> {QUESTION}")
    # bram presses a button on a question that is not his: refused in the lazy listener, logged.
    body = sr.block_action("tag_gunst", str(qid), user_id=USERS["bram"], user_name="bram",
                           response_url=bot.fake.response_url("bram"))
    status, _ = await bot.post(body, sr.FORM, headers={"X-Request-Id": "req-bram-0001"})
    assert status == 200
    await until(lambda: "req-bram-0001" in json_logs.getvalue())
    await bot.thread_reply("anna", qid, f"Nee. {QUESTION} kan zo niet.")
    await until(lambda: bot.rows("SELECT count(*) FROM replies")[0][0] == 1)
    await bot.post(sr.slash_command("help", user_id="USANNE", user_name="sanne",
                                    response_url=bot.fake.response_url("f")), sr.FORM, secret="wrong")

    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]  # every line parses
    assert lines and all({"event", "level", "logger", "timestamp"} <= line.keys() for line in lines)
    refusal = [line for line in lines if line.get("request_id") == "req-bram-0001"]
    assert any("refused" in line["event"] for line in refusal), refusal
    text = json_logs.getvalue()
    for secret in ("GEHEIME-CONTRACT-7731", SECRET, "xoxb-test"):
        assert secret not in text


async def test_request_id_header_is_returned_and_a_bad_one_is_replaced(bot):
    status, _, headers = await sr.post_signed(bot.session, f"{bot.url}/slack/events",
                                              sr.slash_command("help", user_id="USANNE", user_name="sanne",
                                                               response_url=bot.fake.response_url("h")),
                                              secret=SECRET, content_type=sr.FORM,
                                              extra_headers={"X-Request-Id": "lb-1234abcd"})
    assert status == 200 and headers["X-Request-ID"] == "lb-1234abcd"
    _, _, headers = await sr.post_signed(bot.session, f"{bot.url}/slack/events",
                                         sr.slash_command("help", user_id="USANNE", user_name="sanne",
                                                          response_url=bot.fake.response_url("i")),
                                         secret=SECRET, content_type=sr.FORM,
                                         extra_headers={"X-Request-Id": "bad id\twith {json}"})
    assert headers["X-Request-ID"] != "bad id\twith {json}" and len(headers["X-Request-ID"]) == 16


async def test_readyz_stays_ready_when_a_newer_release_already_migrated(tmp_path):
    url = f"sqlite:///{tmp_path}/newer.db"
    await asyncio.to_thread(upgrade_to_head, url)
    runtime = build_runtime(load_settings(database_url=url))
    async with runtime.engine.begin() as connection:  # what the next release's migration would leave
        await connection.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    async with serving(create_app(runtime, start_scheduler=False)) as base, aiohttp.ClientSession() as session:
        async with session.get(f"{base}/readyz") as response:
            status, body = response.status, await response.json()
    assert status == 200, body
    assert "newer than this version" in body["checks"]["migrations"]


async def test_teams_log_lines_carry_request_ids_and_no_message_text(sqlite_database_url, json_logs):
    from tests.e2e.teams_bot import running_teams_bot
    from tests.e2e.test_teams import CARD_KEY, ask_anna

    async with running_teams_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as teams:
        qid = await ask_anna(teams, QUESTION)
        await teams.submit("anna", {CARD_KEY: "answer", "value": str(qid), "answer": f"Ja, {QUESTION} klopt."})
        await until(lambda: teams.rows("SELECT id FROM replies"))
        async with teams.session.post(f"{teams.url}/api/messages", data=b"x", headers={
                "Content-Type": "text/plain", "X-Request-ID": "req-teams-0001"}) as response:
            status = response.status
    assert status == 415  # refused, and logged with its request id
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    assert any(line.get("request_id") == "req-teams-0001" for line in lines), lines
    assert "GEHEIME-CONTRACT-7731" not in json_logs.getvalue()


# ---------------------------------------------------------------- issue 11, finding 8: metrics are private


async def test_the_public_port_serves_no_metrics_with_or_without_the_metrics_listener(bot, sqlite_database_url):
    status, _, _ = await get(bot, "/metrics")  # this bot has a metrics listener elsewhere
    assert status == 404
    runtime = build_runtime(load_settings(database_url=sqlite_database_url))  # no VRAAGBOT_METRICS_PORT
    app = create_app(runtime, start_scheduler=False)
    async with serving(app) as base, aiohttp.ClientSession() as session:
        async with session.get(f"{base}/metrics") as response:
            assert response.status == 404
        assert app[METRICS_KEY].url is None  # and no listener anywhere


async def test_the_metrics_listener_is_on_loopback_and_asks_for_the_token_when_one_is_set(sqlite_database_url):
    port = free_port()
    token = "scrape-token-0123456789"
    runtime = build_runtime(load_settings(database_url=sqlite_database_url, metrics_port=port, metrics_token=token))
    app = create_app(runtime, start_scheduler=False)
    async with serving(app), aiohttp.ClientSession() as session:
        assert app[METRICS_KEY].url == f"http://127.0.0.1:{port}/metrics"  # loopback unless told otherwise
        answers = {}
        for name, headers in {"none": {}, "wrong": {"Authorization": "Bearer scrape-token-wrong-guess"},
                              "bare": {"Authorization": token}, "right": {"Authorization": f"Bearer {token}"}}.items():
            async with session.get(app[METRICS_KEY].url, headers=headers) as response:
                answers[name] = response.status, await response.text()
        async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
            only_metrics = response.status
    assert {name: status for name, (status, _) in answers.items()} == {
        "none": 401, "wrong": 401, "bare": 401, "right": 200}
    assert "vraagbot_requests" not in answers["none"][1]
    assert "vraagbot_questions" in answers["right"][1]
    assert only_metrics == 404  # the listener serves metrics and nothing else


def changes(before, after) -> dict[tuple[str, frozenset], float]:
    """What a step changed in our series; latency sums and buckets vary with the machine, so they are left out."""
    timing = ("vraagbot_ack_seconds_bucket", "vraagbot_ack_seconds_sum")
    keys = {k for k in before.keys() | after.keys() if k[0].startswith("vraagbot_") and not k[0].endswith("_created")
            and k[0] not in timing}
    return {k: value(after, k[0], **dict(k[1])) - value(before, k[0], **dict(k[1])) for k in sorted(keys, key=str)
            if value(after, k[0], **dict(k[1])) != value(before, k[0], **dict(k[1]))}


async def quiet(bot) -> None:
    await until(lambda: not bot.rows("SELECT id FROM outbox WHERE status = 'pending'"))


FRIENDLY = "Ja hoor, dat mag je zo tekenen. Goed dat je het even checkt, succes ermee!"
CURT = "Dit staat gewoon in de handleiding, lees die eerst eens."


async def ask(bot) -> int:
    """Sanne asks Anna; waits until this question (not just any) is delivered."""
    asked = bot.rows("SELECT count(*) FROM questions")[0][0]
    status, _ = await bot.command("sanne", "<@UANNA|anna> Mag ik deze offerte goedkeuren? | inschatting: ja")
    assert status == 200
    await until(lambda: bot.rows("SELECT count(*) FROM questions WHERE delivered_at IS NOT NULL")[0][0] == asked + 1)
    return bot.rows("SELECT max(id) FROM questions")[0][0]


async def reply(bot, qid: int, text: str) -> None:
    replies = bot.rows("SELECT count(*) FROM replies")[0][0]
    await bot.thread_reply("anna", qid, text)
    await until(lambda: bot.rows("SELECT count(*) FROM replies")[0][0] == replies + 1)


async def press(bot, who: str, action: str, qid: int, done_sql: str) -> None:
    status, _ = await bot.press(who, action, str(qid))
    assert status == 200
    await until(lambda: bot.rows(done_sql, qid))


@pytest.mark.parametrize("verdict", ["curt", "werk_or_gunst", "confirmed_or_new_info"])
async def test_no_series_tells_how_one_reply_or_question_was_judged(bot, verdict):
    """Two questions get the same treatment except for one verdict; every series must change in exactly
    the same way both times, so polling /metrics around one reply or click does not give the verdict away."""
    first, second = await ask(bot), await ask(bot)
    if verdict == "confirmed_or_new_info":
        await reply(bot, first, FRIENDLY)
        await reply(bot, second, FRIENDLY)
    await quiet(bot)
    tagged = "SELECT id FROM questions WHERE id = ? AND tag_source = 'expert'"
    closed = "SELECT id FROM questions WHERE id = ? AND outcome IS NOT NULL"
    steps = {
        "curt": (lambda q: reply(bot, q, FRIENDLY), lambda q: reply(bot, q, CURT)),
        "werk_or_gunst": (lambda q: press(bot, "anna", "tag_gunst", q, tagged),
                          lambda q: press(bot, "anna", "tag_werk", q, tagged)),
        "confirmed_or_new_info": (lambda q: press(bot, "sanne", "outcome_new_info", q, closed),
                                  lambda q: press(bot, "sanne", "outcome_confirmed", q, closed)),
    }[verdict]
    start = await metrics(bot)
    await steps[0](first)
    await quiet(bot)
    middle = await metrics(bot)
    await steps[1](second)
    await quiet(bot)
    end = await metrics(bot)

    if verdict == "curt":  # the verdict really differed: the second reply was found curt, the first not
        assert bot.rows("SELECT question_id FROM signals WHERE kind = 'curt_detected'") == [(second,)]
    assert changes(start, middle) == changes(middle, end)
    assert changes(start, middle), "nothing changed at all: the comparison compared nothing"
    assert not [k for k in end if "curt" in k[0] or any("curt" in v or "confirm" in v for v in dict(k[1]).values())]
