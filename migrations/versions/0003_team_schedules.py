"""Weekly team nudge schedules, one per channel.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "team_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE",
                                name="fk_team_schedules_workspace_id_workspaces"),
        sa.ForeignKeyConstraint(["changed_by"], ["people.id"], ondelete="SET NULL",
                                name="fk_team_schedules_changed_by_people"),
        sa.PrimaryKeyConstraint("id", name="pk_team_schedules"),
        sa.UniqueConstraint("channel", name="uq_team_schedules_channel"),
    )
    op.create_index("ix_team_schedules_workspace_id", "team_schedules", ["workspace_id"])
    op.create_index("ix_team_schedules_changed_by", "team_schedules", ["changed_by"])


def downgrade() -> None:
    op.drop_table("team_schedules")  # its indexes go with it
