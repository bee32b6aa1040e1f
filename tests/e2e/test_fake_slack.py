"""The fake Slack Web API answers the real slack_sdk AsyncWebClient, and the request helpers sign like Slack."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.e2e import slack_requests as sr
from tests.e2e.fake_slack import FakeSlack

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures" / "slack"


@pytest.fixture
async def fake():
    async with FakeSlack() as server:
        yield server


@pytest.fixture
def client(fake):
    return AsyncWebClient(token="xoxb-test", base_url=fake.base_url)


async def test_auth_test_and_post_message_records_blocks_as_a_list(fake, client):
    auth = await client.auth_test()
    assert (auth["team_id"], auth["user_id"], auth["bot_id"], auth["user"]) == ("T0001", "UBOT", "BBOT", "vraagbot")

    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Vraag*"}}]
    first = await client.chat_postMessage(channel="C1", text="hoi", blocks=blocks)
    second = await client.chat_postMessage(channel="C1", text="nog een")
    assert first["channel"] == "C1" and first["message"]["text"] == "hoi" and first["message"]["user"] == "UBOT"
    assert float(first["ts"]) < float(second["ts"])

    [call, _] = await fake.wait_for("chat.postMessage", count=2)
    assert call.args["blocks"] == blocks
    assert call.headers["authorization"] == "Bearer xoxb-test"
    assert [c.method for c in fake.calls()] == ["auth.test", "chat.postMessage", "chat.postMessage"]


async def test_form_encoded_json_arguments_are_decoded(fake):
    async with aiohttp.ClientSession() as session:
        form = {"channel": "C1", "text": "[niet json", "blocks": json.dumps([{"type": "divider"}])}
        async with session.post(fake.base_url + "chat.postMessage", data=form,
                                headers={"Authorization": "Bearer xoxb-x"}) as response:
            assert (await response.json())["ok"] is True
    [call] = fake.calls("chat.postMessage")
    assert call.args == {"channel": "C1", "text": "[niet json", "blocks": [{"type": "divider"}]}


async def test_requests_without_a_bot_token_are_not_authed(fake):
    client = AsyncWebClient(token="xoxp-user", base_url=fake.base_url)
    with pytest.raises(SlackApiError) as raised:
        await client.auth_test()
    assert raised.value.response["error"] == "not_authed"


async def test_conversations_open_gives_im_and_mpim_ids_and_can_refuse_mpims(fake, client):
    im = await client.conversations_open(users="U1")
    mpim = await client.conversations_open(users=["U3", "U1", "U2"])
    again = await client.conversations_open(users="U2,U1,U3")
    assert im["channel"]["id"].startswith("D")
    assert mpim["channel"]["id"].startswith("G") and again["channel"]["id"] == mpim["channel"]["id"]
    assert fake.opened[mpim["channel"]["id"]] == ["U1", "U2", "U3"]

    fake.fail_mpim = True
    with pytest.raises(SlackApiError) as raised:
        await client.conversations_open(users="U1,U2")
    assert raised.value.response["error"] == "not_allowed"
    assert (await client.conversations_open(users="U1"))["channel"]["id"] == im["channel"]["id"]


async def test_users_info_and_dnd_info(fake, client):
    fake.add_user("U1", "anne", real_name="Anne de Vries")
    user = (await client.users_info(user="U1", include_locale=True))["user"]
    assert (user["name"], user["real_name"], user["tz"], user["locale"]) == (
        "anne", "Anne de Vries", "Europe/Amsterdam", "nl-NL")
    assert user["tz_offset"] in (3600, 7200) and user["profile"]["display_name"] == "Anne de Vries"
    assert "locale" not in (await client.users_info(user="U1"))["user"]
    with pytest.raises(SlackApiError) as raised:
        await client.users_info(user="U404")
    assert raised.value.response["error"] == "user_not_found"

    assert (await client.dnd_info(user="U1")).data == {
        "ok": True, "dnd_enabled": False, "next_dnd_start_ts": 1, "next_dnd_end_ts": 1}
    fake.set_dnd("U1", 1700000000, 1700030000)
    dnd = (await client.dnd_info(user="U1")).data
    assert dnd == {"ok": True, "dnd_enabled": True, "next_dnd_start_ts": 1700000000, "next_dnd_end_ts": 1700030000}


async def test_a_trigger_id_opens_one_view_only(fake, client):
    view = {"type": "modal", "callback_id": "ask", "title": {"type": "plain_text", "text": "Vraag"}, "blocks": []}
    opened = await client.views_open(trigger_id="t-1", view=view)
    assert opened["view"]["id"].startswith("V") and opened["view"]["callback_id"] == "ask"
    with pytest.raises(SlackApiError) as raised:
        await client.views_open(trigger_id="t-1", view=view)
    assert raised.value.response["error"] == "trigger_exchanged"
    assert fake.calls("views.open")[0].args["view"] == view

    published = await client.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    assert published["view"]["type"] == "home"


async def test_files_upload_v2_stores_the_bytes_for_the_channel(fake, client):
    result = await client.files_upload_v2(channel="D1", content='{"vragen": 3}', filename="x.json",
                                          initial_comment="je export")
    [uploaded] = fake.uploaded_files()
    assert uploaded == (result["file"]["id"], "x.json", b'{"vragen": 3}', "D1")
    assert [c.method for c in fake.calls()] == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    assert fake.calls("files.completeUploadExternal")[0].args["files"] == [{"id": uploaded.file_id,
                                                                            "title": "x.json"}]


async def test_rate_limited_call_is_retried_by_the_retry_handler(fake):
    client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url,
                            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    fake.rate_limit("chat.postMessage", retry_after=0)  # the handler sleeps retry_after + random() seconds
    assert (await client.chat_postMessage(channel="C1", text="hoi"))["ok"] is True
    assert [c.limited for c in fake.calls("chat.postMessage")] == [True, False]


async def test_rate_limited_call_without_retry_handler_raises_429(fake, client):
    fake.rate_limit("chat.postMessage", retry_after=30)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="hoi")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "30"
    assert raised.value.response["error"] == "ratelimited"


async def test_injected_errors_and_http_failures(fake, client):
    fake.error("chat.postMessage", "channel_not_found")
    fake.fail("chat.update", status=503)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C9", text="hoi")
    assert raised.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as raised:
        await client.chat_update(channel="C9", ts="1.2", text="x")
    assert raised.value.response.status_code == 503
    assert (await client.chat_postMessage(channel="C9", text="hoi"))["ok"] is True


async def test_response_url_posts_are_recorded(fake):
    webhook = AsyncWebhookClient(fake.response_url("cmd1"))
    await webhook.send(text="Dank je!", response_type="ephemeral")
    [post] = await fake.wait_for_response(name="cmd1")
    assert post.body == {"text": "Dank je!", "response_type": "ephemeral"}
    with pytest.raises(AssertionError, match="cmd1"):
        await fake.wait_for_response(count=2, timeout=0.1)


async def test_wait_for_lists_what_arrived_when_it_times_out(fake, client):
    await client.auth_test()
    with pytest.raises(AssertionError, match=r"auth\.test"):
        await fake.wait_for("chat.postMessage", timeout=0.1)


def test_sign_reproduces_the_slack_docs_example():
    body = (FIXTURES / "slash_command.signed_docs_example.form.txt").read_text()
    assert sr.sign(body, "8f742231b10e8888abcd99yyyzzz85a5", 1531420618) == {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    }


def test_built_requests_have_the_fixture_keys_and_a_signature_slack_sdk_accepts():
    form = sr.slash_command("wie weet iets van Kafka?", user_id="U1", user_name="anne", response_url="http://x/r")
    fixture_keys = [k for k, _ in parse_qsl((FIXTURES / "slash_command.bolt_test.form.txt").read_text())]
    assert [k for k, _ in parse_qsl(form)][:len(fixture_keys)] == fixture_keys
    assert parse_qs(form)["text"] == ["wie weet iets van Kafka?"] and parse_qs(form)["command"] == ["/vraag"]

    now = int(time.time())
    verifier = SignatureVerifier("geheim")
    action = sr.block_action("answer", "Q1", user_id="U1", user_name="anne", response_url="http://x/r")
    values = {"who": {"pick": {"type": "users_select", "selected_user": "U2"}}}
    submission = sr.view_submission("ask", values, user_id="U1", user_name="anne", private_metadata="Q1")
    event = sr.event_callback(sr.thread_reply_event("ja", user="U2", channel="G1", thread_ts="1.1", ts="1.2"))
    for body in (form, action, submission, event):
        headers = sr.sign(body, "geheim", now)
        assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])

    payload = json.loads(parse_qs(action)["payload"][0])
    assert payload["actions"][0]["action_id"] == "answer" and payload["actions"][0]["value"] == "Q1"
    assert json.loads(parse_qs(submission)["payload"][0])["view"]["state"]["values"] == values
    assert json.loads(event)["event"]["thread_ts"] == "1.1"


async def test_post_signed_sends_the_exact_body_and_headers(fake):
    body = sr.event_callback(sr.app_home_opened_event("U1"))
    async with aiohttp.ClientSession() as session:
        status, text, _ = await sr.post_signed(session, fake.response_url("events"), body, secret="s",
                                               content_type=sr.JSON, timestamp=1700000000)
    assert (status, text) == (200, "ok")
    [post] = fake.responses("events")
    assert post.body["event"]["type"] == "app_home_opened"
    assert post.headers["x-slack-signature"] == sr.sign(body, "s", 1700000000)["X-Slack-Signature"]
