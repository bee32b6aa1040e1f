"""Hypothesis strategies for bad input: random values, real-shaped payloads and ways to break them.

Real shapes come from the e2e builders (tests/e2e/slack_requests.py, tests/e2e/teams_activities.py), which
follow the recorded fixtures; mutations delete or retype fields anywhere in them."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from hypothesis import strategies as st

from handlers.actions import Action
from tests.e2e import slack_requests as sr
from tests.e2e.slack_bot import USERS

MIB = 1024 * 1024
# Placeholder for a response_url; tests swap in their fake's own (see `with_response_url`).
RESPONSE_URL = "http://response.invalid/fuzz"
ACTION_IDS = [a.value for a in Action] + ["open_topics_modal", "answer", "ask_form"]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=10)
# Header values aiohttp will send: printable ASCII, no line breaks.
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)
content_types = st.sampled_from([
    sr.FORM, sr.JSON, "application/json; charset=utf-8", "APPLICATION/JSON", "text/plain", "text/html",
    "application/xml", "multipart/form-data; boundary=xyz", "application/octet-stream", "",
    "application/x-www-form-urlencoded; charset=latin-1", "application/jsonp", "*/*",
]) | header_text
# Numbers that look like question or person ids, and things that almost do.
id_values = st.one_of(
    st.integers(-3, 12).map(str),
    st.sampled_from(["", " 1", "01", "+1", "1.0", "1e3", "１", "0x1", "null", "-0", "9" * 25, "9" * 5000, "1;2"]),
    st.text(max_size=12),
)


@dataclass(frozen=True)
class Huge:
    """A body of `size` bytes, made in the test rather than by hypothesis (megabytes do not shrink well)."""

    size: int
    pattern: str

    def build(self) -> bytes:
        unit = self.pattern.encode() or b"a"
        return (unit * (self.size // len(unit) + 1))[: self.size]


huge_bodies = st.builds(Huge, size=st.one_of(st.integers(64 * 1024, MIB - 1024), st.integers(MIB + 1, MIB + MIB // 2)),
                        pattern=st.sampled_from(["a", "payload=", '{"a":', "%ZZ", "é", "\x00"]))


# --------------------------------------------------------------------------- mutations


def _slots(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) pair in a JSON document, depth first."""
    found: list[tuple[Any, Any]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in list(items):
        found.append((node, key))
        found.extend(_slots(value))
    return found


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """`document` with one to four fields deleted or given a random value of any type."""
    doc = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 4))):
        slots = _slots(doc)
        if not slots:
            break
        container, key = draw(st.sampled_from(slots))
        if draw(st.booleans()):
            del container[key]
        else:
            container[key] = draw(json_values)
    return doc


# --------------------------------------------------------------------------- Slack: real shapes

slack_users = st.sampled_from(sorted(USERS.values())) | st.sampled_from(["UNOBODY", "", "U" + "X" * 40])
slack_texts = st.sampled_from(["help", "mijn-gegevens", "vergeet-mij", "rol", "rol contracten", "rol weg contracten",
                               "<@UANNA|anna> Mag dit? | inschatting: ja", "#contracten Klopt dit?", "", "   ",
                               "teamnudge", "erkenning uit"]) | st.text(max_size=80)


@st.composite
def slack_command_fields(draw: st.DrawFn) -> dict[str, Any]:
    body = sr.slash_command(draw(slack_texts), user_id=draw(slack_users), user_name="fuzz",
                            response_url=RESPONSE_URL, trigger_id="trigger-fuzz",
                            channel_id=draw(st.sampled_from(["C0001", "D0001", ""])))
    return dict(parse_qsl(body, keep_blank_values=True))


@st.composite
def slack_interactive_payloads(draw: st.DrawFn) -> dict[str, Any]:
    user = draw(slack_users)
    if draw(st.booleans()):
        body = sr.block_action(draw(st.sampled_from(ACTION_IDS) | st.text(max_size=20)), draw(id_values),
                               user_id=user, user_name="fuzz", response_url=RESPONSE_URL,
                               trigger_id="trigger-fuzz")
    else:
        values = {"expert": {"value": {"type": "users_select", "selected_user": draw(slack_users)}},
                  "question": {"value": {"type": "plain_text_input", "value": draw(st.text(max_size=60))}},
                  "topics": {"value": {"type": "plain_text_input", "value": draw(st.text(max_size=30))}}}
        body = sr.view_submission(draw(st.sampled_from(["vraag_modal", "topics_modal", "other"])), values,
                                  user_id=user, user_name="fuzz", private_metadata=draw(st.sampled_from(["nl", "en",
                                                                                                         "xx", ""])),
                                  # A fixed trigger id: Hypothesis replays a case and needs a payload of the same
                                  # length (it bounds what `broken` draws); a time-based one grows a digit.
                                  trigger_id="trigger-fuzz")
    return json.loads(dict(parse_qsl(body))["payload"])


@st.composite
def slack_event_envelopes(draw: st.DrawFn) -> dict[str, Any]:
    user = draw(slack_users)
    event = draw(st.sampled_from(["thread", "home", "other"]))
    if event == "thread":
        inner = sr.thread_reply_event(draw(st.text(max_size=80)), user=user, channel=draw(st.sampled_from(
            ["G0001", "D0001", "C0001"])), thread_ts=draw(st.sampled_from(["1700000000.000100", "1", ""])),
            ts="1700000001.000100")
    elif event == "home":
        inner = sr.app_home_opened_event(user)
    else:
        inner = {"type": draw(st.sampled_from(["reaction_added", "app_mention", "member_joined_channel", "x"])),
                 "user": user}
    envelope = json.loads(sr.event_callback(inner, event_id=f"EvFuzz{draw(st.integers(0, 10**9))}"))
    if draw(st.booleans()):
        envelope = {"type": "url_verification", "challenge": draw(st.text(max_size=20)), "token": "x"}
    return envelope


# --------------------------------------------------------------------------- Slack: bodies


def form(fields: Any) -> str:
    if isinstance(fields, dict):
        return urlencode({str(k): v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()})
    return urlencode({"value": json.dumps(fields)})


def payload_form(payload: Any) -> str:
    return urlencode({"payload": json.dumps(payload)})


@st.composite
def broken(draw: st.DrawFn, text: str) -> str:
    """Damage an encoded body: cut it short, splice in bad escapes or stray characters."""
    how = draw(st.sampled_from(["cut", "escape", "splice", "double"]))
    at = draw(st.integers(0, len(text)))
    if how == "cut":
        return text[:at]
    if how == "escape":
        bad = draw(st.sampled_from(["%", "%Z", "%ZZ", "%u00e9", "%00", "%FF%FE", "&&=", "=&="]))
        return text[:at] + bad + text[at:]
    if how == "splice":
        return text[:at] + draw(st.text(max_size=8)) + text[at:]
    return text + "&" + text


slack_documents = st.one_of(
    slack_command_fields().map(form),
    slack_interactive_payloads().map(payload_form),
    slack_event_envelopes().map(json.dumps),
)

# The body texts of requests that Slack could have sent, or that someone shaped like them.
slack_texts_bodies = st.one_of(
    slack_documents,
    slack_command_fields().flatmap(mutated).map(form),
    slack_interactive_payloads().flatmap(mutated).map(payload_form),
    slack_event_envelopes().flatmap(mutated).map(json.dumps),
    json_values.map(json.dumps),
    json_values.map(payload_form),
    st.dictionaries(st.text(max_size=12), st.text(max_size=20), max_size=6).map(form),
    slack_documents.flatmap(broken),
    st.text(max_size=200),
)
slack_bodies = st.one_of(slack_texts_bodies.map(str.encode), st.binary(max_size=200))


@dataclass(frozen=True)
class Deep:
    """JSON nested `depth` levels deep (as an object field, a payload= form or bare), built in the test."""

    depth: int
    shape: str

    def build(self) -> bytes:
        nested = '{"a":' * self.depth + "1" + "}" * self.depth
        if self.shape == "event":
            return ('{"type":"event_callback","event":' + nested + "}").encode()
        if self.shape == "payload":
            return ("payload=" + '{"type":"block_actions","actions":[' + nested + "]}").encode()
        return nested.encode()


deep_bodies = st.builds(Deep, depth=st.integers(50, 3000), shape=st.sampled_from(["event", "payload", "bare"]))


def with_response_url(body: bytes, url: str) -> bytes:
    """Point the placeholder response_url (form-encoded, as in commands and payload= forms) at `url`."""
    return body.replace(quote(RESPONSE_URL, safe="").encode(), quote(url, safe="").encode())


# --------------------------------------------------------------------------- Teams

SERVICE_URL = "http://service.invalid/fuzz/"  # placeholder; tests swap in their FakeConnector's (`with_service_url`)
TEAMS_USERS = ["29:sanne", "29:anna", "29:lotte", "29:eve", "", "28:bot-app-id"]
CARD_KEY = "vraagbot_action"
SUBMIT_KINDS = [*ACTION_IDS, "unknown"]

card_values = st.one_of(
    st.fixed_dictionaries({CARD_KEY: st.sampled_from(SUBMIT_KINDS), "value": id_values | json_values},
                          optional={"answer": st.text(max_size=40) | json_values, "expert": json_values,
                                    "question": json_values, "kind": json_values, "urgent": json_values}),
    st.fixed_dictionaries({CARD_KEY: json_values}),
    json_values,
)
teams_texts = st.sampled_from(["help", "vraag", "ask", "mijn gegevens", "vergeet mij", "rol contracten",
                               "vraag <at>Anna de Vries</at> Mag dit?", "", "<at>vraagbot</at>"]) | st.text(max_size=60)


@st.composite
def teams_activities(draw: st.DrawFn) -> dict[str, Any]:
    """A real-shaped inbound activity (tests/e2e/teams_activities.py builders)."""
    from tests.e2e import teams_activities as ta

    user = draw(st.sampled_from(TEAMS_USERS))
    kind = draw(st.sampled_from(["message", "submit", "invoke", "channel", "team_added", "personal_added"]))
    if kind == "message":
        return ta.personal_message(draw(teams_texts), user_id=user, user_name="Fuzz", service_url=SERVICE_URL)
    if kind == "submit":
        return ta.personal_message("", user_id=user, user_name="Fuzz", service_url=SERVICE_URL,
                                   value=draw(card_values.filter(lambda v: isinstance(v, dict))))
    if kind == "invoke":
        activity = ta.invoke_action_execute(draw(st.sampled_from(SUBMIT_KINDS) | st.text(max_size=12)), {},
                                            user_id=user, service_url=SERVICE_URL)
        activity["value"]["action"]["data"] = draw(card_values)
        if draw(st.booleans()):
            activity["name"] = draw(st.sampled_from(["composeExtension/query", "task/fetch", "signin/verifyState",
                                                     "fileConsent/invoke", ""]) | st.text(max_size=20))
        return activity
    if kind == "channel":
        return ta.channel_mention(draw(teams_texts), user_id=user, user_name="Fuzz", service_url=SERVICE_URL)
    if kind == "team_added":
        return ta.bot_added_to_team(service_url=SERVICE_URL)
    return ta.bot_added_personal(user or "29:x", service_url=SERVICE_URL)


@st.composite
def retyped(draw: st.DrawFn, activity: dict[str, Any]) -> dict[str, Any]:
    """An activity whose `type` is random but still a string (anything else is refused up front)."""
    activity = dict(activity)
    activity["type"] = draw(st.sampled_from(["message", "invoke", "conversationUpdate", "event", "messageReaction",
                                             "installationUpdate", "typing", "endOfConversation", "messageUpdate",
                                             "messageDelete", "trace", "handoff", ""]) | st.text(max_size=12))
    return activity


teams_documents = st.one_of(
    teams_activities(),
    teams_activities().flatmap(mutated),
    teams_activities().flatmap(mutated).filter(lambda a: isinstance(a, dict)).flatmap(retyped),
    teams_activities().flatmap(retyped),
    st.fixed_dictionaries({"type": st.text(max_size=12)}, optional={"serviceUrl": st.just(SERVICE_URL),
                                                                   "from": json_values, "conversation": json_values,
                                                                   "value": json_values, "text": json_values}),
)
teams_bodies = st.one_of(
    teams_documents.map(lambda d: json.dumps(d).encode()),
    teams_documents.map(json.dumps).flatmap(broken).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),  # non-object JSON, or objects without a type
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    deep_bodies.map(Deep.build),
)


def with_service_url(body: bytes, url: str) -> bytes:
    return body.replace(SERVICE_URL.encode(), url.encode())
