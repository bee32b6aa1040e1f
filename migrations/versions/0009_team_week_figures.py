"""Team week figures: each (workspace, ISO week) computed once and stored (issue 11, finding 5).

Every channel's message about a week reuses them, so a forget-me between two channels' messages
no longer changes the second one's figures. Counts only, no people. Weeks before this migration
have no row: their next message (if any) computes and stores them as the week now stands.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "team_week_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=16), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("asked", sa.Integer(), nullable=False),
        sa.Column("werk", sa.Integer(), nullable=False),
        sa.Column("with_outcome", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("answerers", sa.Integer(), nullable=False),
        sa.Column("short_replies", sa.Integer(), nullable=False),
        sa.Column("previous", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE",
                                name="fk_team_week_figures_workspace_id_workspaces"),
        sa.PrimaryKeyConstraint("id", name="pk_team_week_figures"),
        sa.UniqueConstraint("workspace_id", "week", name="uq_team_week_figures_workspace_id_week"),
    )


def downgrade() -> None:
    op.drop_table("team_week_figures")
