"""The fake Bot Connector answers the real botbuilder CloudAdapter, fed with the Teams activity builders."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp import web
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import ActivityTypes, ChannelAccount, ConversationParameters, ErrorResponseException
from botbuilder.schema.teams import TeamsChannelAccount

from tests.e2e import teams_activities as ta
from tests.e2e.fake_connector import ADAPTIVE_CARD, FakeConnector

USER = {"user_id": "29:1-user-an", "user_name": "An de Vries"}
BOT_APP_ID = ""  # auth disabled: no Authorization on the way in or out


class Config:
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class EchoBot(ActivityHandler):
    """Echoes text; remembers the conversation references and the errors `on_turn_error` saw."""

    def __init__(self) -> None:
        self.references = []

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        self.references.append(TurnContext.get_conversation_reference(turn_context.activity))
        if turn_context.activity.value:
            await turn_context.send_activity(f"value: {json.dumps(turn_context.activity.value, sort_keys=True)}")
        else:
            await turn_context.send_activity(f"echo: {turn_context.activity.text}")


@pytest.fixture
async def fake():
    async with FakeConnector() as server:
        yield server


@pytest.fixture
def bot():
    return EchoBot()


@pytest.fixture
def adapter():
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))
    adapter.errors = []

    async def on_error(context: TurnContext, error: Exception) -> None:
        adapter.errors.append(error)

    adapter.on_turn_error = on_error
    return adapter


@pytest.fixture
async def bot_url(adapter, bot):
    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"
    await runner.cleanup()


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as client:
        yield client


async def test_personal_message_reply_goes_to_reply_to_activity(fake, bot_url, session):
    activity = ta.personal_message("hoi", **USER, service_url=fake.service_url)
    conversation_id = activity["conversation"]["id"]

    assert await ta.post_activity(session, bot_url, activity) == (201, "")

    [reply] = await fake.wait_for(1, conversation_id=conversation_id)
    assert (reply.method, reply.kind, reply.status) == ("POST", "reply", 201)
    assert reply.path == f"/v3/conversations/{conversation_id}/activities/{activity['id']}"
    assert reply.activity_id == activity["id"]
    assert reply.headers["x-ms-conversation-id"] == conversation_id
    assert "authorization" not in reply.headers
    assert FakeConnector.text_of(reply.body) == "echo: hoi"
    assert reply.body["replyToId"] == activity["id"]
    assert reply.body["recipient"]["id"] == USER["user_id"] and reply.body["from"]["id"] == ta.BOT_ID
    assert reply.body["conversation"]["id"] == conversation_id


async def test_channel_thread_id_with_messageid_and_at_round_trips(fake, bot_url, session):
    activity = ta.channel_mention("wat is x?", **USER, root_id="1759881511856", service_url=fake.service_url)
    conversation_id = activity["conversation"]["id"]
    assert conversation_id == "19:channel-1@thread.tacv2;messageid=1759881511856"
    assert activity["text"] == "<at>vraagbot</at> wat is x?"
    assert activity["entities"][0]["mentioned"] == {"id": ta.BOT_ID, "name": "vraagbot"}

    status, _ = await ta.post_activity(session, bot_url, activity)

    assert status == 201
    [reply] = await fake.wait_for(1)
    assert reply.conversation_id == conversation_id
    assert reply.headers["x-ms-conversation-id"] == conversation_id
    assert reply.body["text"] == "echo: <at>vraagbot</at> wat is x?"


async def test_action_submit_arrives_as_message_with_value(fake, bot_url, session):
    activity = ta.personal_message("", **USER, service_url=fake.service_url, value={"vraag": "7"},
                                   reply_to_id="1700000000001")
    assert "text" not in activity and activity["replyToId"] == "1700000000001"

    assert (await ta.post_activity(session, bot_url, activity))[0] == 201

    [reply] = await fake.wait_for(1)
    assert reply.body["text"] == 'value: {"vraag": "7"}'


async def test_conversation_updates_and_invoke_are_accepted(fake, bot_url, session):
    for activity in (ta.bot_added_personal(USER["user_id"], service_url=fake.service_url),
                     ta.bot_added_to_team(team_name="Docenten", service_url=fake.service_url)):
        assert (await ta.post_activity(session, bot_url, activity))[0] == 201
    invoke = ta.invoke_action_execute("answer", {"q": 1}, user_id=USER["user_id"], service_url=fake.service_url)
    status, text = await ta.post_activity(session, bot_url, invoke)
    assert (status, text) == (501, "null")  # a plain ActivityHandler does not implement adaptiveCard/action
    assert fake.requests() == []


async def test_continue_conversation_replies_to_a_made_up_activity_id(fake, adapter, bot, bot_url, session):
    activity = ta.personal_message("onthoud mij", **USER, service_url=fake.service_url)
    await ta.post_activity(session, bot_url, activity)
    await fake.wait_for(1)
    reference = bot.references[0]

    async def callback(turn_context: TurnContext) -> None:
        await turn_context.send_activity("proactief")

    await adapter.continue_conversation(reference, callback, BOT_APP_ID)

    [_, proactive] = await fake.wait_for(2)
    assert proactive.kind == "reply" and proactive.conversation_id == activity["conversation"]["id"]
    assert proactive.activity_id not in (None, activity["id"])  # a fresh uuid1, not the stored activity id
    assert proactive.body["replyToId"] == proactive.activity_id
    assert proactive.body["text"] == "proactief"
    assert "authorization" not in proactive.headers


async def test_create_conversation_then_send_in_it(fake, adapter):
    params = ConversationParameters(
        is_group=False, bot=ChannelAccount(id=ta.BOT_ID, name=ta.BOT_NAME),
        members=[TeamsChannelAccount(id=USER["user_id"])], tenant_id=ta.TENANT_ID)
    seen = []

    async def callback(turn_context: TurnContext) -> None:
        seen.append(turn_context.activity)
        await turn_context.send_activity("welkom")

    await adapter.create_conversation(BOT_APP_ID, callback, params, "msteams", fake.service_url, None)

    [created] = fake.created()
    # msrest spells it "tenantID" (ConversationParameters._attribute_map), not the REST docs' "tenantId".
    assert created == {"isGroup": False, "bot": {"id": ta.BOT_ID, "name": ta.BOT_NAME},
                       "members": [{"id": USER["user_id"]}], "tenantID": ta.TENANT_ID}
    [create_request] = [r for r in fake.requests() if r.kind == "create"]
    assert (create_request.method, create_request.path, create_request.status) == ("POST", "/v3/conversations", 201)
    [event] = seen
    assert (event.type, event.name, event.conversation.id) == (ActivityTypes.event, "CreateConversation", "a:new-1")
    [message] = await fake.wait_for(1, conversation_id="a:new-1")
    # The callback's send replies to the activityId of the ConversationResourceResponse.
    assert message.kind == "reply" and message.activity_id == event.id and message.body["text"] == "welkom"


async def test_throttled_send_raises_without_retry(fake, adapter, bot_url, session):
    fake.throttle(retry_after=3)
    activity = ta.personal_message("hoi", **USER, service_url=fake.service_url)

    # The inbound request still succeeds: on_turn_error handled the exception.
    assert (await ta.post_activity(session, bot_url, activity))[0] == 201

    [error] = adapter.errors
    assert isinstance(error, ErrorResponseException)
    assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "3"
    assert error.error.error.code == "TooManyRequests"
    assert str(error) == "(TooManyRequests) Too many requests. Please retry after some time."
    [attempt] = fake.sent()  # botbuilder did not retry
    assert attempt.status == 429 and fake.delivered() == []


@pytest.mark.parametrize("status", [412, 500, 502, 504])
async def test_failed_send_raises(fake, adapter, bot_url, session, status):
    fake.fail(status)
    await ta.post_activity(session, bot_url, ta.personal_message("hoi", **USER, service_url=fake.service_url))

    [error] = adapter.errors
    assert isinstance(error, ErrorResponseException) and error.response.status_code == status
    assert [s.status for s in fake.sent()] == [status]


async def test_fault_for_one_conversation_leaves_others_alone(fake, bot_url, session):
    other = ta.personal_message("b", user_id="29:2-user-bo", user_name="Bo", service_url=fake.service_url)
    fake.throttle(conversation_id=other["conversation"]["id"])
    await ta.post_activity(session, bot_url, ta.personal_message("a", **USER, service_url=fake.service_url))
    await ta.post_activity(session, bot_url, other)
    await ta.post_activity(session, bot_url, other)
    assert [s.status for s in await fake.wait_for(3)] == [201, 429, 201]


async def test_blocked_conversation_answers_403_message_writes_blocked(fake, adapter, bot_url, session):
    activity = ta.personal_message("hoi", **USER, service_url=fake.service_url)
    fake.block(activity["conversation"]["id"])

    await ta.post_activity(session, bot_url, activity)
    await ta.post_activity(session, bot_url, activity)

    assert [s.status for s in fake.sent()] == [403, 403]
    error = adapter.errors[0]
    assert isinstance(error, ErrorResponseException) and error.response.status_code == 403
    # Teams' 403 body is not an ErrorResponse: `error.error.error` is None, the fields land in additional_properties.
    assert str(error) == "Operation returned an invalid status code 'Forbidden'" and error.error.error is None
    assert error.error.additional_properties["errorCode"] == 209
    body = error.response.json()
    assert body["errorCode"] == 209 and json.loads(body["message"])["subCode"] == "MessageWritesBlocked"


async def test_members_update_delete_and_unknown_routes(fake, session):
    conversation_id = "19:channel-1@thread.tacv2"
    member = {"id": "29:1", "name": "An", "aadObjectId": "aad-1"}
    fake.set_roster(conversation_id, [member, {"id": "29:2", "name": "Bo"}])
    base = fake.service_url + "v3/conversations/19%3Achannel-1%40thread.tacv2"

    async def call(method: str, url: str, body: dict | None = None) -> tuple[int, object]:
        async with session.request(method, url, json=body) as response:
            return response.status, await response.json()

    assert await call("GET", base + "/members") == (200, [member, {"id": "29:2", "name": "Bo"}])
    assert await call("GET", base + "/members/29%3A1") == (200, member)
    assert (await call("GET", base + "/members/29%3A9"))[0] == 404
    assert await call("GET", base + "/pagedmembers?pageSize=1") == (200, {"continuationToken": "1",
                                                                          "members": [member]})
    assert await call("PUT", base + "/activities/17", {"type": "message", "text": "x"}) == (200, {"id": "17"})
    assert (await call("DELETE", base + "/activities/17"))[0] == 200
    status, body = await call("GET", fake.service_url + "v3/conversations")
    assert status == 404 and body["error"]["code"] == "NotFound"
    assert [(r.method, r.kind, r.conversation_id) for r in fake.requests()][-3:] == [
        ("PUT", "update", conversation_id), ("DELETE", "delete", conversation_id), ("GET", "unknown", None)]
    assert fake.sent() == []


def test_card_helpers():
    card = {"type": "AdaptiveCard", "body": [
        {"type": "TextBlock", "text": "Vraag"},
        {"type": "ColumnSet", "columns": [{"type": "Column", "items": [{"type": "TextBlock", "text": "Antwoord"}]}]},
    ], "actions": [{"type": "Action.Submit", "title": "Ok", "data": {"text": "not a text block"}}]}
    body = {"type": "message", "text": "kop",
            "attachments": [{"contentType": "text/html", "content": "<p/>"},
                            {"contentType": ADAPTIVE_CARD, "content": card}]}
    assert FakeConnector.card_of(body) == card
    assert FakeConnector.all_text(body) == "kop\nVraag\nAntwoord"
    assert FakeConnector.card_of({"type": "message"}) is None and FakeConnector.all_text({"text": "x"}) == "x"
