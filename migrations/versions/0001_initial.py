"""Initial schema: workspaces, people, topics, questions, replies, signals, outbox, events.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written out by hand from an autogenerate run. Names follow storage.tables.NAMING_CONVENTION;
server defaults use sa.false() so they render as ``false`` on PostgreSQL and ``0`` on SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _flag(name: str) -> sa.Column:
    return sa.Column(name, sa.Boolean(), server_default=sa.false(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workspaces"),
        sa.UniqueConstraint("platform", "external_id", name="uq_workspaces_platform_external_id"),
    )

    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("handle", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        _flag("recognition_opt_out"),
        _flag("unreachable"),
        _when("created_at"),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_people_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_people"),
        sa.UniqueConstraint("workspace_id", "external_id", name="uq_people_workspace_id_external_id"),
        sa.UniqueConstraint("workspace_id", "handle", name="uq_people_workspace_id_handle"),
    )

    op.create_table(
        "expert_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_expert_topics_person_id_people", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_expert_topics"),
        sa.UniqueConstraint("person_id", "topic", name="uq_expert_topics_person_id_topic"),
    )
    op.create_index("ix_expert_topics_topic", "expert_topics", ["topic"])

    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("asker_id", sa.Integer(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=True),
        sa.Column("topic", sa.String(length=100), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("first_assessment", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=True),
        _flag("urgent"),
        sa.Column("tag", sa.String(length=32), nullable=True),
        sa.Column("tag_source", sa.String(length=32), nullable=True),
        _when("tagged_at", nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        _when("asked_at"),
        _when("deliver_after", nullable=True),
        _when("delivered_at", nullable=True),
        _flag("interrupted_focus"),
        _when("first_reply_at", nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        _when("outcome_at", nullable=True),
        sa.Column("thread_ref", sa.String(length=512), nullable=True),
        _when("text_redacted_at", nullable=True),
        sa.ForeignKeyConstraint(["asker_id"], ["people.id"], name="fk_questions_asker_id_people"),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["people.id"], name="fk_questions_expert_id_people", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_questions_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_questions"),
    )
    op.create_index("ix_questions_expert_id_status", "questions", ["expert_id", "status"])
    op.create_index("ix_questions_asker_id_topic_kind", "questions", ["asker_id", "topic", "kind"])
    op.create_index("ix_questions_workspace_id_thread_ref", "questions", ["workspace_id", "thread_ref"])
    op.create_index("ix_questions_workspace_id_asked_at", "questions", ["workspace_id", "asked_at"])

    op.create_table(
        "replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        _when("created_at"),
        sa.Column("reply_seconds", sa.Float(), nullable=False),
        sa.Column("curt_score", sa.Float(), server_default=sa.text("0"), nullable=False),
        _flag("curt"),
        sa.Column("curt_reasons", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["people.id"], name="fk_replies_author_id_people", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name="fk_replies_question_id_questions", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_replies"),
    )
    op.create_index("ix_replies_question_id", "replies", ["question_id"])
    op.create_index("ix_replies_author_id", "replies", ["author_id"])

    op.create_table(
        "signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        _when("created_at"),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name="fk_signals_question_id_questions", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["people.id"], name="fk_signals_subject_id_people", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["people.id"], name="fk_signals_reporter_id_people", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_signals"),
    )
    op.create_index("ix_signals_question_id", "signals", ["question_id"])
    op.create_index("ix_signals_subject_id", "signals", ["subject_id"])
    op.create_index("ix_signals_reporter_id", "signals", ["reporter_id"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=255), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=32), server_default=sa.text("'pending'"), nullable=False),
        _when("due_at"),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _when("created_at"),
        _when("sent_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_outbox_person_id_people", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name="fk_outbox_question_id_questions", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
    )
    op.create_index("ix_outbox_status_due_at", "outbox", ["status", "due_at"])
    op.create_index("ix_outbox_person_id", "outbox", ["person_id"])
    op.create_index("ix_outbox_question_id", "outbox", ["question_id"])

    op.create_table(
        "processed_events",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        _when("received_at"),
        sa.PrimaryKeyConstraint("platform", "event_id", name="pk_processed_events"),
    )
    op.create_index("ix_processed_events_received_at", "processed_events", ["received_at"])


def downgrade() -> None:
    # Children before parents; dropping a table drops its indexes with it.
    for table in (
        "processed_events",
        "outbox",
        "signals",
        "replies",
        "questions",
        "expert_topics",
        "people",
        "workspaces",
    ):
        op.drop_table(table)
