"""A NUL character in a question or an answer (found by the fuzz tests on PostgreSQL): PostgreSQL
refuses it in a text column, so the question was acknowledged and then lost. Now the invisible
control characters are dropped before anything is stored, on both databases, and the question
reaches the expert."""

from __future__ import annotations

from tests.e2e.loopback import until
from tests.e2e.slack_bot import running_slack_bot


def _db_path(database_url: str) -> str:
    return database_url.split("///", 1)[1] if database_url.startswith("sqlite") else ""


async def test_a_question_with_a_nul_character_is_kept_and_delivered(database_url):
    async with running_slack_bot(database_url, _db_path(database_url)) as bot:
        status, _ = await bot.command("sanne", "<@UANNA|anna> Mag de\x00 offerte\x07 weg? | inschatting: ja\x00")
        assert status == 200

        def delivered() -> list[str]:
            return [c.args.get("text", "") for c in bot.fake.calls("chat.postMessage")
                    if "Mag de offerte weg?" in c.args.get("text", "")]

        [text] = await until(delivered, seconds=30)
        assert "\x00" not in text and "\x07" not in text
