"""Try the Teams integration without Teams: `python -m tests.e2e.try_teams`.

Starts a fake Bot Connector (where a Teams bot sends its messages) and a fake Microsoft Graph (presence,
for focus time), runs `vraagbot serve` against them as README's Teams section says (the local-testing
switch on 127.0.0.1, the connector's address as the only Bot Framework service URL, Graph's URL and app
credentials), plays the Teams journeys with activities shaped like the ones Teams sends (two personal
installs, a question by `vraag @naam`, the expert's buttons and answer, the asker's outcome, the data
export through the file consent card) and prints what each person would see in Teams: in whose chat,
the text, Adaptive Cards as text with their buttons as `[ label ]`, and which cards changed. Stops by
itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from tests.e2e import teams_activities as ta
from tests.e2e.fake_connector import ADAPTIVE_CARD, UPDATE, FakeConnector, Sent
from tests.e2e.fake_graph import APP_ID, APP_SECRET, FakeGraph
from tests.e2e.try_slack import INDENT, WIDTH, _button_rows, _free_port, _wait_healthy

USERS = {"sanne": "29:sanne", "anna": "29:anna"}
NAMES = {"sanne": "Sanne Jansen", "anna": "Anna de Vries"}
ACTION_KEY = "vraagbot_action"  # where a card's buttons carry their action (bot.teams.cards)
FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"
WAIT = 60.0  # generous: each step waits for what it is about, not for a time


class TeamsView:
    """Renders what the fake connector received as a person would see it in the Teams client."""

    def __init__(self, fake: FakeConnector) -> None:
        self.fake = fake

    def chat_of(self, conversation_id: str | None) -> str:
        for who, user_id in USERS.items():
            if conversation_id == ta.personal_conversation_id(user_id):
                return f"chat of {NAMES[who]} with vraagbot"
        return f"conversation {conversation_id}"

    def card_lines(self, card: dict[str, Any]) -> list[str]:
        lines: list[str] = []
        for element in card.get("body", []):
            lines += self.element_lines(element)
        buttons = [f"[ {a.get('title', '?')} ]" for a in card.get("actions", [])]
        return lines + _button_rows(buttons)

    def element_lines(self, element: dict[str, Any]) -> list[str]:
        kind = element.get("type", "")
        if kind == "TextBlock":
            return [element.get("text", "")]
        if kind == "RichTextBlock":
            return ["".join(run.get("text", "") for run in element.get("inlines", []))]
        if kind == "FactSet":
            return [f"{fact.get('title')}: {fact.get('value')}" for fact in element.get("facts", [])]
        if kind == "Input.ChoiceSet":
            choices = element.get("choices") or []
            options = " / ".join(c.get("title", "") for c in choices) if choices else "(search a colleague)"
            return [f"{element.get('label') or element.get('id')}: {options}"]
        if kind == "Input.Toggle":
            return [f"[ ] {element.get('title') or element.get('label')}"]
        if kind.startswith("Input."):
            return [f"{element.get('label') or element.get('placeholder') or element.get('id')}: ____"]
        if kind == "ActionSet":
            return _button_rows([f"[ {a.get('title', '?')} ]" for a in element.get("actions", [])])
        children = element.get("items") or [item for column in element.get("columns", [])
                                              for item in column.get("items", [])]
        return [line for child in children for line in self.element_lines(child)]

    def attachment_lines(self, attachment: dict[str, Any]) -> list[str]:
        kind, content = attachment.get("contentType"), attachment.get("content") or {}
        if isinstance(content, str):
            content = json.loads(content)
        if kind == ADAPTIVE_CARD:
            return self.card_lines(content)
        if kind == FILE_CONSENT:  # Teams draws this card itself: the file, and Allow / Decline
            return [f"File: {attachment.get('name')} ({content.get('sizeInBytes')} bytes)",
                    content.get("description", ""), "[ Allow ]  [ Decline ]"]
        if kind == FILE_INFO:
            return [f"File: {attachment.get('name')} ({content.get('fileType')}, in your OneDrive; click to open)"]
        return [f"<{kind} attachment>"]

    def activity_lines(self, body: dict[str, Any]) -> list[str]:
        lines = [body["text"]] if body.get("text") else []
        for attachment in body.get("attachments") or []:
            lines += self.attachment_lines(attachment)
        return lines

    def show_sent(self, sent: Sent) -> None:
        where = self.chat_of(sent.conversation_id)
        if sent.kind == UPDATE:
            where += ", a card was updated (it now reads)"
        self.show(where, self.activity_lines(sent.body))

    @staticmethod
    def show(where: str, lines: list[str]) -> None:
        print(f"    -> {where}:")
        for line in lines:
            for paragraph in line.split("\n"):
                print(textwrap.fill(paragraph, WIDTH, initial_indent=INDENT, subsequent_indent=INDENT,
                                    break_long_words=False, break_on_hyphens=False) if paragraph.strip() else "")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _actions(sent: Sent) -> list[str]:
    card = FakeConnector.card_of(sent.body) or {}
    return [str((a.get("data") or {}).get(ACTION_KEY)) for a in card.get("actions", [])]


async def _until(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise SystemExit(f"try_teams: gave up waiting for {what}")
        await asyncio.sleep(0.1)
    return found


async def main() -> None:
    async with FakeConnector() as fake, FakeGraph() as graph, aiohttp.ClientSession() as session:
        for who, user_id in USERS.items():  # the member roster Teams answers for each personal chat
            fake.set_roster(ta.personal_conversation_id(user_id), [
                {"id": user_id, "name": NAMES[who], "aadObjectId": ta.aad_id_for(user_id),
                 "tenantId": ta.TENANT_ID, "userRole": "user"}])
        view = TeamsView(fake)
        port = _free_port()
        workdir = Path(tempfile.mkdtemp(prefix="vraagbot-try-teams-"))
        env = {**os.environ, "VRAAGBOT_TEAMS_LOCAL_TESTING": "true",
               "VRAAGBOT_TEAMS_SERVICE_URLS": _origin(fake.service_url),
               "VRAAGBOT_GRAPH_URL": graph.url, "VRAAGBOT_GRAPH_LOGIN_URL": graph.url,
               "VRAAGBOT_GRAPH_CA_FILE": str(graph.ca_file), "VRAAGBOT_GRAPH_APP_ID": APP_ID,
               "VRAAGBOT_GRAPH_APP_PASSWORD": APP_SECRET, "VRAAGBOT_OUTBOX_TICK_SECONDS": "0.5"}
        command = [str(Path(sys.executable).parent / "vraagbot"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = subprocess.Popen(command, cwd=workdir, env=env)  # noqa: ASYNC220 - returns at once
        url = f"http://127.0.0.1:{port}"
        shown = 0

        async def step(title: str, activity: dict[str, Any], done: Callable[[], Any], what: str) -> None:
            """Post one activity as Teams would, wait until `done`, then show everything the bot sent since."""
            nonlocal shown
            status, answer = await ta.post_activity(session, f"{url}/api/messages", activity)
            print(textwrap.fill(f"{title}  (HTTP {status})", WIDTH, subsequent_indent="  ", break_long_words=False))
            await _until(done, what)
            await asyncio.sleep(1.0)  # what belongs to the same turn (a second message, a card update)
            answered = json.loads(answer) if answer.strip().startswith("{") else {}
            if isinstance(answered.get("value"), dict) and answered.get("type") == ADAPTIVE_CARD:
                view.show("the pressed card now reads", view.card_lines(answered["value"]))
            posted = [s for s in fake.requests() if s.kind in ("reply", "send", UPDATE)]
            for sent in posted[shown:]:
                view.show_sent(sent)
            shown = len(posted)

        def delivered_to(who: str, condition: Callable[[Sent], bool] = lambda s: True) -> list[Sent]:
            return [s for s in fake.delivered(ta.personal_conversation_id(USERS[who])) if condition(s)]

        def updates() -> int:
            return len(fake.updated())

        def submit(who: str, value: dict[str, Any], card: Sent) -> dict[str, Any]:
            """An Action.Submit on `card`: a message with the card's data, replying to the card's activity."""
            return ta.personal_message("", user_id=USERS[who], user_name=NAMES[who], service_url=fake.service_url,
                                       value=value, reply_to_id=card.answered_id)

        try:
            await _wait_healthy(session, url)
            for who in ("anna", "sanne"):
                await step(f"{who} adds vraagbot in Teams (Apps -> vraagbot -> Add)",
                           ta.bot_added_personal(USERS[who], service_url=fake.service_url, locale="nl-NL"),
                           lambda who=who: delivered_to(who), f"the welcome of {who}")
                await ta.post_activity(session, f"{url}/api/messages", ta.installation_update(
                    USERS[who], service_url=fake.service_url, locale="nl-NL"))  # Teams tells an install twice

            text = "vraag @anna Mag ik deze offerte goedkeuren? | inschatting: ja"
            await step(f"sanne types: {text}",
                       ta.personal_message(text, user_id=USERS["sanne"], user_name=NAMES["sanne"],
                                           service_url=fake.service_url),
                       lambda: delivered_to("anna", lambda s: "tag_werk" in _actions(s)), "the question at anna")
            [question] = delivered_to("anna", lambda s: "tag_werk" in _actions(s))
            value = next(a["data"]["value"] for a in FakeConnector.card_of(question.body)["actions"])

            before = updates()
            await step("anna presses [ Hoort bij mijn werk ] on the question card",
                       submit("anna", {ACTION_KEY: "tag_werk", "value": value}, question),
                       lambda: updates() > before, "the question card's update")

            answer = "Klopt, dat mag. Goed dat je het checkt!"
            await step(f"anna writes '{answer}' on the card and presses [ Antwoord versturen ]",
                       submit("anna", {ACTION_KEY: "answer", "value": value, "answer": answer}, question),
                       lambda: delivered_to("sanne", lambda s: "outcome_confirmed" in _actions(s)),
                       "the outcome card at sanne")
            [outcome] = delivered_to("sanne", lambda s: "outcome_confirmed" in _actions(s))

            before = updates()
            await step("sanne presses [ Mijn inschatting klopte ] on the outcome card",
                       submit("sanne", {ACTION_KEY: "outcome_confirmed", "value": value}, outcome),
                       lambda: updates() > before, "the outcome card's update")

            await step("sanne types: mijn gegevens",
                       ta.personal_message("mijn gegevens", user_id=USERS["sanne"], user_name=NAMES["sanne"],
                                           service_url=fake.service_url),
                       lambda: delivered_to("sanne", lambda s: "export_data" in _actions(s)), "the data summary")
            summary = delivered_to("sanne", lambda s: "export_data" in _actions(s))[-1]
            export = next(a["data"] for a in FakeConnector.card_of(summary.body)["actions"]
                          if a["data"].get(ACTION_KEY) == "export_data")

            def consent_cards() -> list[dict[str, Any]]:
                return [a for s in delivered_to("sanne") for a in s.body.get("attachments") or []
                        if a.get("contentType") == FILE_CONSENT]

            await step("sanne presses the export button on that card", submit("sanne", dict(export), summary),
                       consent_cards, "the file consent card")
            card = consent_cards()[-1]
            await step("sanne presses [ Allow ] on the file card",
                       ta.file_consent_invoke("accept", user_id=USERS["sanne"], service_url=fake.service_url,
                                              context=card["content"]["acceptContext"], name=card["name"],
                                              upload_url=fake.upload_url(card["name"])),
                       lambda: delivered_to("sanne", lambda s: any(a.get("contentType") == FILE_INFO
                                                                  for a in s.body.get("attachments") or [])),
                       "the file in the chat")
            for uploaded in fake.uploads():
                view.show(f"Sanne's OneDrive (the upload, HTTP {uploaded.status})",
                          [f"{card['name']}: {uploaded.headers.get('content-length')} bytes of JSON, "
                           f"her {len(uploaded.body.get('questions', []))} question(s) in it"])
            asked = [c for c in graph.presence_calls() if c.status == 200]
            view.show("Microsoft Graph (presence, for focus time)",
                      [f"asked {len(asked)} time(s) whether Anna was in focus time: she was available, so the "
                       "question went out at once"])
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())
