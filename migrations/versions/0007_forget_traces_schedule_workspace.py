"""Schedules per (workspace, channel), and conversation references without the person who spoke
(issue 11, findings 14 and 7).

- ``team_schedules``: unique per workspace and channel instead of per channel, so a workspace that
  sees the same channel id cannot take over another workspace's setting. The outbox keys of weekly
  team messages queued before this get their workspace (``...:w<id>``, handlers.team_nudges.team_key),
  so this week's message is not sent a second time after the upgrade.
- ``conversation_refs``: the stored Teams reference loses its ``user`` part (id, name and
  aadObjectId of whoever spoke when it was stored). Proactive sends need only the conversation,
  the bot account, the channel id and the service URL; a channel reference kept the
  last person who @mentioned the bot there, which outlived that person's forget-me.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_outbox = sa.table("outbox", sa.column("id", sa.Integer()), sa.column("dedupe_key", sa.String()),
                   sa.column("kind", sa.String()), sa.column("channel", sa.String()))
_schedules = sa.table("team_schedules", sa.column("id", sa.Integer()), sa.column("workspace_id", sa.Integer()),
                      sa.column("channel", sa.String()))


def _team_schedules(*unique: str) -> sa.Table:
    """The table as 0003 made it, with the given unique key: batch mode on SQLite copies it from
    this instead of reflecting it, so `alembic upgrade --sql` works without a database too."""
    return sa.Table(
        "team_schedules", sa.MetaData(),
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
        sa.UniqueConstraint(*unique, name=f"uq_team_schedules_{'_'.join(unique)}"),
        sa.Index("ix_team_schedules_workspace_id", "workspace_id"),
        sa.Index("ix_team_schedules_changed_by", "changed_by"),
    )


def upgrade() -> None:
    with op.batch_alter_table("team_schedules", copy_from=_team_schedules("channel")) as batch:
        batch.drop_constraint("uq_team_schedules_channel", type_="unique")
        batch.create_unique_constraint("uq_team_schedules_workspace_id_channel", ["workspace_id", "channel"])
    # Plain SQL for the data, so `alembic upgrade --sql` writes it out for a DBA too. Until now a
    # channel had at most one schedule, so the channel names the workspace of its messages.
    op.execute("UPDATE outbox SET dedupe_key = dedupe_key || '\\:w' || CAST((SELECT s.workspace_id "
               "FROM team_schedules s WHERE s.channel = outbox.channel) AS VARCHAR(20)) "
               "WHERE kind = 'weekly_team' AND channel IN (SELECT channel FROM team_schedules)")
    if op.get_context().dialect.name == "postgresql":
        op.execute("UPDATE conversation_refs SET reference = (reference::jsonb - 'user')::json "
                   "WHERE (reference::jsonb -> 'user') IS NOT NULL")
    else:
        op.execute("UPDATE conversation_refs SET reference = json_remove(reference, '$.user') "
                   "WHERE json_type(reference, '$.user') IS NOT NULL")


def downgrade() -> None:
    # One schedule per channel again: where two workspaces set the same channel, the oldest stays.
    connection = op.get_bind()
    kept: dict[str, int] = {}
    for row_id, channel in connection.execute(sa.select(_schedules.c.id, _schedules.c.channel)
                                              .order_by(_schedules.c.id)).all():
        if channel in kept:
            connection.execute(sa.delete(_schedules).where(_schedules.c.id == row_id))
        else:
            kept[channel] = row_id
    bases: set[str] = set()
    for row_id, key in connection.execute(sa.select(_outbox.c.id, _outbox.c.dedupe_key)
                                          .where(_outbox.c.kind == "weekly_team").order_by(_outbox.c.id)).all():
        base, _, suffix = key.rpartition(":w")
        if not (base and suffix.isdigit()):
            continue
        if base in bases:  # the other workspace's message in the same channel and week
            connection.execute(sa.delete(_outbox).where(_outbox.c.id == row_id))
        else:
            bases.add(base)
            connection.execute(sa.update(_outbox).where(_outbox.c.id == row_id).values(dedupe_key=base))
    with op.batch_alter_table("team_schedules", copy_from=_team_schedules("workspace_id", "channel")) as batch:
        batch.drop_constraint("uq_team_schedules_workspace_id_channel", type_="unique")
        batch.create_unique_constraint("uq_team_schedules_channel", ["channel"])
    # The ``user`` part removed from conversation references is not restored: it is gone.
