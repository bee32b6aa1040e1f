"""The monthly picture over the real Slack client against the fake Slack Web API, on SQLite and
PostgreSQL: exactly one post per channel and month (the chart uploaded with the files upload v2 flow,
two sentences as its comment), across two replicas planning and sending at once, a restart, and an
upload whose answer was lost; the hidden week marked; the channel's language.

The scheduler's own jobs (weekly planning, then monthly planning, then the outbox drain) are run by
hand with a hand-moved clock, so "next Monday 09:00" needs no waiting.
"""

from __future__ import annotations

import asyncio
import io
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image as PILImage
from sqlalchemy import select

from bot.slack.web import SlackMessenger, make_client
from handlers.context import Policy
from nudges.delivery.outbox import OutboxDispatcher
from nudges.delivery.scheduler import DeliveryScheduler
from nudges.monthly import MonthlyPlanner
from nudges.planner import WeeklyPlanner
from nudges.texts.catalog import load_catalog
from storage.tables import OutboxMessage
from tests.e2e.fake_slack import FakeSlack
from tests.unit.world import World

pytestmark = pytest.mark.timeout(180)

CATALOG = load_catalog()
POLICY = Policy(default_locale="nl", default_time_zone="Europe/Amsterdam", min_group_size=5)
GRACE = timedelta(hours=6)
TEAM = ["sanne", "anna", "lotte", "bram", "femke"]
# Monday 30 November 2026, 09:00 in Amsterdam: the weekly message about W48, November's last week.
PICTURE_MOMENT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


class HandClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


async def november(uow_factory) -> int:
    """Questions in the four weeks of November 2026 (W45 to W48), one of them (W46) among only four
    people; weekly messages on Mondays 09:00 in two channels, one in Dutch, one in English."""
    world = World(uow=uow_factory, db_path="")
    world.clock.current = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    for handle in TEAM:
        await world.add_person(handle)
    async with uow_factory() as uow:
        workspace = await uow.workspaces.by_external_id("slack", "T1")
        for channel, language in (("slack:C0TEAM", "nl"), ("slack:C0INTL", "en")):
            await uow.team_schedules.save(workspace_id=workspace.id, channel=channel, weekday=0, hour=9, minute=0,
                                          time_zone="Europe/Amsterdam", language=language,
                                          changed_by=world.people["anna"].id, now=world.clock.now())
    for week, people in enumerate([TEAM, TEAM[:4], TEAM, TEAM]):
        world.clock.current = datetime(2026, 11, 3, 10, 0, tzinfo=UTC) + timedelta(weeks=week)
        for asker, expert in zip(people, people[1:] + people[:1], strict=True):
            asked = await world.say(asker, f"@{expert} Klopt deze termijn?")
            await world.reply(expert, asked.question_id, "Ja, die klopt.")
    return workspace.id


@dataclass
class Replica:
    scheduler: DeliveryScheduler

    async def run_jobs(self) -> None:
        await self.scheduler.plan()  # weekly, then monthly
        await self.scheduler.tick()


async def replica(stack: AsyncExitStack, fake: FakeSlack, uow_factory, clock: HandClock) -> Replica:
    """One `vraagbot serve` process's delivery side: its own Slack client, dispatcher and planners."""
    client = make_client("xoxb-test", fake.base_url)
    stack.push_async_callback(client.close)
    dispatcher = OutboxDispatcher(uow_factory, SlackMessenger(client, uow_factory), clock)
    weekly = WeeklyPlanner(uow_factory, clock, CATALOG, POLICY, grace=GRACE)
    monthly = MonthlyPlanner(uow_factory, clock, CATALOG, POLICY, grace=GRACE)
    return Replica(DeliveryScheduler(dispatcher, 3600, planner=weekly, monthly=monthly))


def shared_in(fake: FakeSlack, channel: str) -> list[dict]:
    return [m for m in fake.posted(channel) if m.get("files")]


async def monthly_rows(uow_factory) -> list[OutboxMessage]:
    async with uow_factory() as uow:
        stmt = select(OutboxMessage).where(OutboxMessage.kind == "monthly_team").order_by(OutboxMessage.id)
        return list(await uow.session.scalars(stmt))


async def test_one_picture_per_channel_and_month_across_replicas_and_a_restart(uow_factory):
    await november(uow_factory)
    clock = HandClock(PICTURE_MOMENT + timedelta(seconds=30))
    async with FakeSlack() as fake, AsyncExitStack() as stack:
        first, second = [await replica(stack, fake, uow_factory, clock) for _ in range(2)]
        await asyncio.gather(first.run_jobs(), second.run_jobs())  # the weekly messages go out
        clock.current = PICTURE_MOMENT + timedelta(minutes=2)  # past the picture's minute after them
        await asyncio.gather(first.run_jobs(), second.run_jobs())
        await asyncio.gather(first.run_jobs(), second.run_jobs())
        # A restart: new processes, nothing in memory, the same database.
        restarted = await replica(stack, fake, uow_factory, clock)
        await restarted.run_jobs()
        clock.current += timedelta(days=7)  # the next Monday brings a weekly message and no picture
        await restarted.run_jobs()

        uploads = fake.uploaded_files()
        assert sorted(u.channel_id for u in uploads) == ["C0INTL", "C0TEAM"]
        assert all(u.content[:8] == b"\x89PNG\r\n\x1a\n" for u in uploads)
        [dutch], [english] = shared_in(fake, "C0TEAM"), shared_in(fake, "C0INTL")
        assert dutch["text"] == (
            "In de weken van november 2026 met genoeg mensen om cijfers te tonen, stelde het team 15 vragen via "
            "vraagbot; 100% daarvan kreeg het label werk. De grafiek toont de laatste 12 weken; één week is grijs "
            "gearceerd, want daarin waren minder dan 5 mensen bij de vragen betrokken.")
        assert english["text"].startswith("In the weeks of November 2026 with enough people to show figures, the "
                                          "team asked 15 questions")
        # Each channel also had its two weekly messages, and the picture came after the first.
        for channel in ("C0TEAM", "C0INTL"):
            posts = [m for m in fake.posted(channel) if not m.get("files")]
            assert len(posts) == 2
            assert float(posts[0]["ts"]) < float(shared_in(fake, channel)[0]["ts"]) < float(posts[1]["ts"])
        upload = next(u for u in uploads if u.channel_id == "C0TEAM")
        assert upload.title.startswith("Team: vragen per week, de afgelopen 12 weken")

    rows = await monthly_rows(uow_factory)
    assert [(r.channel, r.period, r.status) for r in rows] == [
        ("slack:C0TEAM", "2026-11", "sent"), ("slack:C0INTL", "2026-11", "sent")]
    weeks = {w["week"]: w for w in rows[0].payload["attachment"]["weeks"]}
    assert weeks["2026-W46"]["hidden"] and weeks["2026-W46"]["asked"] == 0  # marked hidden, no count kept
    assert [weeks[w]["asked"] for w in ("2026-W45", "2026-W47", "2026-W48")] == [5, 5, 5]
    assert "png" not in str(rows[0].payload).lower().replace("vraagbot-2026-11.png", "")  # figures, no picture


async def test_an_upload_whose_answer_was_lost_is_found_and_not_shared_twice(uow_factory):
    await november(uow_factory)
    clock = HandClock(PICTURE_MOMENT + timedelta(minutes=2))
    async with FakeSlack() as fake, AsyncExitStack() as stack:
        node = await replica(stack, fake, uow_factory, clock)
        # Slack shares the file, then answers 500: whether it arrived is unknown to the bot.
        fake.fail("files.completeUploadExternal", 500, times=1, carried_out=True)
        await node.run_jobs()
        for _ in range(3):  # the retries, once their backoff has passed
            clock.current += timedelta(minutes=15)
            await node.run_jobs()
        assert len(shared_in(fake, "C0TEAM")) == 1
        assert len(fake.calls("files.completeUploadExternal")) == 2  # the other channel's, and the lost one
        assert fake.calls("conversations.history")  # looked up before sending again
    assert [r.status for r in await monthly_rows(uow_factory)] == ["sent", "sent"]


async def test_the_picture_marks_the_hidden_week_in_grey(uow_factory):
    await november(uow_factory)
    clock = HandClock(PICTURE_MOMENT + timedelta(minutes=2))
    async with FakeSlack() as fake, AsyncExitStack() as stack:
        await (await replica(stack, fake, uow_factory, clock)).run_jobs()
        upload = next(u for u in fake.uploaded_files() if u.channel_id == "C0TEAM")
    with PILImage.open(io.BytesIO(upload.content)) as image:
        assert image.size == (1000, 500)
        colours = {pixel[:3] for _, pixel in image.convert("RGB").getcolors(maxcolors=1 << 20)}
    assert (0xEE, 0xEE, 0xEE) in colours and (0x9E, 0x9E, 0x9E) in colours  # the hatched band
    assert (0x9E, 0xCA, 0xE1) in colours  # the bars
