"""SQLAlchemy implementations of the repository protocols in handlers.ports, one per aggregate."""

from storage.repositories.outbox import SqlOutboxRepository, SqlProcessedEventRepository
from storage.repositories.people import SqlPersonRepository, SqlTopicRepository, SqlWorkspaceRepository
from storage.repositories.questions import SqlQuestionRepository, SqlReplyRepository, SqlSignalRepository
from storage.repositories.team_weeks import SqlTeamWeekRepository

__all__ = [
    "SqlOutboxRepository",
    "SqlPersonRepository",
    "SqlProcessedEventRepository",
    "SqlQuestionRepository",
    "SqlReplyRepository",
    "SqlSignalRepository",
    "SqlTeamWeekRepository",
    "SqlTopicRepository",
    "SqlWorkspaceRepository",
]
