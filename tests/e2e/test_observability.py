"""/readyz, /metrics, request ids and JSON log lines, on the real app over HTTP."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bot.app import create_app
from bot.logging_setup import configure_logging
from bot.runtime import build_runtime
from bot.settings import load_settings
from storage.migrate import downgrade_to, upgrade_to_head
from tests.e2e import slack_requests as sr
from tests.e2e.loopback import serving, until
from tests.e2e.slack_bot import SECRET, USERS, running_slack_bot
from tests.e2e.test_slack import quick_ask

QUESTION = "Mag ik het GEHEIME-CONTRACT-7731 zo tekenen?"


@pytest.fixture
async def bot(sqlite_database_url):
    async with running_slack_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as running:
        yield running


@pytest.fixture
def json_logs():
    """Our logging set-up, writing into a buffer; pytest's own handlers are put back afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    buffer = io.StringIO()
    configure_logging("INFO", "json", secrets=[SECRET, "xoxb-test"])
    root.handlers[0].setStream(buffer)
    yield buffer
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


async def get(bot, path: str) -> tuple[int, str, dict[str, str]]:
    async with bot.session.get(f"{bot.url}{path}") as response:
        return response.status, await response.text(), dict(response.headers)


async def metrics(bot) -> dict[tuple[str, frozenset], float]:
    status, text, headers = await get(bot, "/metrics")
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


async def test_metrics_count_requests_latency_questions_signals_and_outbox(bot):
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
    assert value(after, "vraagbot_questions", tag="werk") == 1
    assert value(after, "vraagbot_signals", kind="curt_detected") == 1
    sent = sum(v for (name, labels), v in after.items()
               if name == "vraagbot_outbox_messages" and ("status", "sent") in labels)
    assert sent == bot.rows("SELECT count(*) FROM outbox WHERE status = 'sent'")[0][0] > 0


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
