"""A workspace of an Enterprise Grid org is its own team for figures (issue 16, item 3).

With an org-wide install vraagbot keys the org's people by the org (one person across its workspaces),
so ``workspace_id`` is the org. ``org_workspace`` says which of the org's workspaces (Slack team id) a
question was asked in, a channel's weekly setting was made in, and whose weekly figures a row holds.
It is '' outside an org-wide install, and on rows written before this revision: '' stands for the whole
workspace, so those rows count as they did.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def _column() -> sa.Column:
    return sa.Column("org_workspace", sa.String(length=255), nullable=False, server_default="")


def _team_week_figures(*unique: str) -> sa.Table:
    """The table with the given unique key (0009's, or this revision's with ``org_workspace``): batch mode on
    SQLite copies it from this instead of reflecting it, so `alembic upgrade --sql` works without a database."""
    return sa.Table(
        "team_week_figures", sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=16), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in (
            "asked", "werk", "with_outcome", "confirmed", "people", "answered", "answerers", "short_replies")),
        sa.Column("previous", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        *((_column(),) if "org_workspace" in unique else ()),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE",
                                name="fk_team_week_figures_workspace_id_workspaces"),
        sa.PrimaryKeyConstraint("id", name="pk_team_week_figures"),
        sa.UniqueConstraint(*unique, name=f"uq_team_week_figures_{'_'.join(unique)}"),
    )


def upgrade() -> None:
    for table in ("questions", "team_schedules"):
        op.add_column(table, _column())
    # One set of figures per week for each workspace of an org (SQLite: the table is rebuilt).
    with op.batch_alter_table("team_week_figures", copy_from=_team_week_figures("workspace_id", "week")) as batch:
        batch.add_column(_column())
        batch.drop_constraint("uq_team_week_figures_workspace_id_week", type_="unique")
        batch.create_unique_constraint("uq_team_week_figures_workspace_id_org_workspace_week",
                                       ["workspace_id", "org_workspace", "week"])


def downgrade() -> None:
    # Rows of an org's workspaces would collide on the old constraint: keep the whole-workspace ones only.
    op.execute("DELETE FROM team_week_figures WHERE org_workspace <> ''")
    with op.batch_alter_table("team_week_figures",
                              copy_from=_team_week_figures("workspace_id", "org_workspace", "week")) as batch:
        batch.drop_constraint("uq_team_week_figures_workspace_id_org_workspace_week", type_="unique")
        batch.create_unique_constraint("uq_team_week_figures_workspace_id_week", ["workspace_id", "week"])
        batch.drop_column("org_workspace")
    for table in ("questions", "team_schedules"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("org_workspace")
