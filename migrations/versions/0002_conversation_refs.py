"""Conversation references for proactive messages (Teams personal chats and team channels).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_refs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE",
                                name="fk_conversation_refs_workspace_id_workspaces"),
        sa.PrimaryKeyConstraint("id", name="pk_conversation_refs"),
        sa.UniqueConstraint("workspace_id", "kind", "external_id",
                            name="uq_conversation_refs_workspace_id_kind_external_id"),
    )
    op.create_index("ix_conversation_refs_workspace_id", "conversation_refs", ["workspace_id"])


def downgrade() -> None:
    op.drop_index("ix_conversation_refs_workspace_id", table_name="conversation_refs")
    op.drop_table("conversation_refs")
