"""The storage classes offer everything handlers.ports asks for, with the same parameter names.

A method added to a protocol and not to storage fails here, not at run time in production.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from handlers import ports
from storage import repositories as repos
from storage import tables
from storage.repositories.schedules import SqlTeamScheduleRepository
from storage.uow import SqlUnitOfWork

IMPLEMENTATIONS = [
    (ports.WorkspaceRepository, repos.SqlWorkspaceRepository),
    (ports.PersonRepository, repos.SqlPersonRepository),
    (ports.TopicRepository, repos.SqlTopicRepository),
    (ports.QuestionRepository, repos.SqlQuestionRepository),
    (ports.ReplyRepository, repos.SqlReplyRepository),
    (ports.SignalRepository, repos.SqlSignalRepository),
    (ports.OutboxRepository, repos.SqlOutboxRepository),
    (ports.ProcessedEventRepository, repos.SqlProcessedEventRepository),
    (ports.TeamScheduleRepository, SqlTeamScheduleRepository),
    (ports.TeamWeekRepository, repos.SqlTeamWeekRepository),
    (ports.UnitOfWork, SqlUnitOfWork),
]

RECORDS = [
    (ports.WorkspaceRecord, tables.Workspace),
    (ports.PersonRecord, tables.Person),
    (ports.TopicRecord, tables.ExpertTopic),
    (ports.QuestionRecord, tables.Question),
    (ports.ReplyRecord, tables.Reply),
    (ports.SignalRecord, tables.Signal),
    (ports.OutboxRecord, tables.OutboxMessage),
    (ports.TeamScheduleRecord, tables.TeamSchedule),
    (ports.TeamWeekRecord, tables.TeamWeekFigures),
]


def protocol_methods(protocol: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in vars(protocol).items()
        if callable(member) and (not name.startswith("_") or name in {"__aenter__", "__aexit__"})
    }


def parameters(function: Any) -> list[tuple[str, Any, bool]]:
    return [
        (p.name, p.kind, p.default is not inspect.Parameter.empty)
        for p in inspect.signature(function).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


@pytest.mark.parametrize(("protocol", "implementation"), IMPLEMENTATIONS, ids=lambda x: x.__name__)
def test_repository_implements_every_method(protocol: type, implementation: type) -> None:
    for name, declared in protocol_methods(protocol).items():
        actual = getattr(implementation, name, None)
        assert actual is not None, f"{implementation.__name__}.{name} is missing"
        assert inspect.iscoroutinefunction(actual) == inspect.iscoroutinefunction(declared), name
        if name == "__aexit__":  # *exc_info in the protocol, the usual three in ours
            continue
        expected, offered = parameters(declared), parameters(actual)
        where = f"{implementation.__name__}.{name}"
        assert offered[: len(expected)] == expected, where
        assert all(has_default for _, _, has_default in offered[len(expected) :]), (
            f"{where}: extras need defaults"
        )


def test_unit_of_work_has_every_repository() -> None:
    expected = {k for k in inspect.get_annotations(ports.UnitOfWork) if not k.startswith("_")}
    assert expected <= set(inspect.get_annotations(SqlUnitOfWork))


@pytest.mark.parametrize(("protocol", "table"), RECORDS, ids=lambda x: x.__name__)
def test_rows_have_the_record_attributes(protocol: type, table: type) -> None:
    declared = set(inspect.get_annotations(protocol))
    columns = set(table.__table__.columns.keys())
    assert declared == columns
    for name in declared:
        column = table.__table__.columns[name]
        optional = "None" in str(inspect.get_annotations(protocol)[name])
        assert column.nullable == optional, f"{table.__name__}.{name}: nullable should be {optional}"
