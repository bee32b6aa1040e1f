"""Workspaces, people and the topics they declared in-role."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.ports import Recipient
from storage.repositories._sql import affected, count_rows, insert_ignoring_duplicates
from storage.tables import ExpertTopic, OutboxMessage, Person, Workspace


def people_of_workspace(workspace_id: int) -> Select[tuple[int]]:
    """The ids of a workspace's people, as a subquery (erasing a workspace: handlers.workspace_erasure)."""
    return select(Person.id).where(Person.workspace_id == workspace_id)


async def recipients_of(session: AsyncSession, person_ids: Iterable[int]) -> dict[int, Recipient]:
    """Those of these people who exist, as their platform knows them, in one query (the outbox's claim)."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    people, workspaces = Person.__table__, Workspace.__table__
    rows = await session.execute(
        select(people.c.id, people.c.external_id, workspaces.c.platform)
        .join(workspaces, workspaces.c.id == people.c.workspace_id)
        .where(people.c.id.in_(ids)))
    return {row.id: Recipient(row.platform, row.external_id) for row in rows}


class SqlWorkspaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, workspace_id: int) -> Workspace | None:
        return await self._session.get(Workspace, workspace_id)

    async def by_external_id(self, platform: str, external_id: str) -> Workspace | None:
        stmt = select(Workspace).where(Workspace.platform == platform, Workspace.external_id == external_id)
        return await self._session.scalar(stmt)

    async def get_or_create(self, platform: str, external_id: str, name: str) -> Workspace:
        found = await self.by_external_id(platform, external_id)
        if found is not None:
            return found
        # Two replicas may see a new workspace's first event at once: insert-or-ignore, and when
        # the other insert won, read theirs.
        stmt = (
            insert_ignoring_duplicates(self._session, Workspace)
            .values(platform=platform, external_id=external_id, name=name)
            .on_conflict_do_nothing(index_elements=["platform", "external_id"])
            .returning(Workspace)
        )
        created = await self._session.scalar(stmt) or await self.by_external_id(platform, external_id)
        if created is None:
            raise RuntimeError(f"workspace {platform}/{external_id} vanished right after insert")
        return created

    async def get_for_update(self, workspace_id: int) -> Workspace | None:
        stmt = select(Workspace).where(Workspace.id == workspace_id).with_for_update()
        return await self._session.scalar(stmt.execution_options(populate_existing=True))

    async def delete(self, workspace_id: int) -> int:
        return affected(await self._session.execute(delete(Workspace).where(Workspace.id == workspace_id)))


class SqlPersonRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, person_id: int) -> Person | None:
        return await self._session.get(Person, person_id)

    async def get_many(self, person_ids: Sequence[int]) -> list[Person]:
        if not person_ids:
            return []
        return list(await self._session.scalars(select(Person).where(Person.id.in_(list(person_ids)))))

    async def with_rotation(self, person_ids: Sequence[int], kind: str) -> list[tuple[Person, int]]:
        if not person_ids:
            return []
        # A correlated count per person, so the rotation seed costs no query of its own.
        queued = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.person_id == Person.id, OutboxMessage.kind == kind)
            .correlate(Person)
            .scalar_subquery()
        )
        rows = await self._session.execute(select(Person, queued).where(Person.id.in_(list(person_ids))))
        return [(person, int(count or 0)) for person, count in rows]

    async def by_external_id(self, workspace_id: int, external_id: str) -> Person | None:
        stmt = select(Person).where(Person.workspace_id == workspace_id, Person.external_id == external_id)
        return await self._session.scalar(stmt)

    async def by_platform_ids(self, platform: str, workspace_external_id: str, external_id: str) -> Person | None:
        # One query where workspace and person lookups took two: every request starts with this.
        stmt = (
            select(Person)
            .join(Workspace, Workspace.id == Person.workspace_id)
            .where(Workspace.platform == platform, Workspace.external_id == workspace_external_id,
                   Person.external_id == external_id)
        )
        return await self._session.scalar(stmt)

    async def by_aad_object_id(self, workspace_id: int, aad_object_id: str) -> Person | None:
        """Teams (beyond the port): the person with this Microsoft Entra object id, the oldest if two have it."""
        stmt = (select(Person).where(Person.workspace_id == workspace_id, Person.aad_object_id == aad_object_id)
                .order_by(Person.id).limit(1))
        return await self._session.scalar(stmt)

    async def by_handle(self, workspace_id: int, handle: str) -> Person | None:
        stmt = select(Person).where(Person.workspace_id == workspace_id, Person.handle == handle.lower())
        return await self._session.scalar(stmt)

    async def named(self, workspace_id: int, handle: str) -> list[Person]:
        handle = handle.lower()
        stmt = (
            select(Person)
            .where(Person.workspace_id == workspace_id,
                   or_(Person.handle == handle, Person.handle.startswith(f"{handle}-", autoescape=True)))
            .order_by(Person.id)
        )
        return list(await self._session.scalars(stmt))

    async def add(
        self,
        *,
        workspace_id: int,
        external_id: str,
        handle: str,
        display_name: str,
        locale: str,
        time_zone: str,
        now: datetime,
    ) -> Person:
        """Insert, or find: two first requests of a new person can race (two replicas, or two requests
        at once on PostgreSQL), and both get the one row. A taken handle still raises IntegrityError
        (and so fails the unit of work): callers pick a free one first."""
        stmt = (
            insert_ignoring_duplicates(self._session, Person)
            .values(workspace_id=workspace_id, external_id=external_id, handle=handle.lower(),
                    display_name=display_name, locale=locale, time_zone=time_zone, created_at=now)
            .on_conflict_do_nothing(index_elements=["workspace_id", "external_id"])
            .returning(Person)
        )
        person = await self._session.scalar(stmt)
        if person is None:  # someone else's insert won the race: theirs is the row
            person = await self.by_external_id(workspace_id, external_id)
        if person is None:
            raise RuntimeError(f"person {external_id} vanished right after insert")
        return person

    async def delete(self, person_id: int) -> None:
        await self._session.execute(delete(Person).where(Person.id == person_id))

    async def count_in_workspace(self, workspace_id: int) -> int:
        return await count_rows(self._session, Person, Person.workspace_id == workspace_id)

    async def delete_in_workspace(self, workspace_id: int) -> int:
        return affected(await self._session.execute(delete(Person).where(Person.workspace_id == workspace_id)))


class SqlTopicRepository:
    """Topics are stored as given: callers pass them through handlers.models.normalise_topic."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list_for(self, person_id: int) -> list[ExpertTopic]:
        stmt = select(ExpertTopic).where(ExpertTopic.person_id == person_id).order_by(ExpertTopic.topic)
        return list(await self._session.scalars(stmt))

    async def add(self, person_id: int, topic: str, now: datetime) -> bool:
        stmt = (
            insert_ignoring_duplicates(self._session, ExpertTopic)
            .values(person_id=person_id, topic=topic, created_at=now)
            .on_conflict_do_nothing(index_elements=["person_id", "topic"])
            .returning(ExpertTopic.id)
        )
        return (await self._session.scalar(stmt)) is not None

    async def remove(self, person_id: int, topic: str) -> bool:
        stmt = delete(ExpertTopic).where(ExpertTopic.person_id == person_id, ExpertTopic.topic == topic)
        return affected(await self._session.execute(stmt)) > 0

    async def experts_for(self, workspace_id: int, topic: str) -> list[Person]:
        stmt = (
            select(Person)
            .join(ExpertTopic, ExpertTopic.person_id == Person.id)
            # Topics declared before the hyphen rule (handlers.models.normalise_topic) were stored with
            # spaces ("juridisch advies"); they answer to the hyphenated name too.
            .where(Person.workspace_id == workspace_id, func.replace(ExpertTopic.topic, " ", "-") == topic)
            .order_by(Person.id)
        )
        return list(await self._session.scalars(stmt))

    async def delete_for(self, person_id: int) -> int:
        stmt = delete(ExpertTopic).where(ExpertTopic.person_id == person_id)
        return affected(await self._session.execute(stmt))

    async def count_in_workspace(self, workspace_id: int) -> int:
        in_workspace = ExpertTopic.person_id.in_(people_of_workspace(workspace_id))
        return await count_rows(self._session, ExpertTopic, in_workspace)

    async def delete_in_workspace(self, workspace_id: int) -> int:
        stmt = delete(ExpertTopic).where(ExpertTopic.person_id.in_(people_of_workspace(workspace_id)))
        return affected(await self._session.execute(stmt))
