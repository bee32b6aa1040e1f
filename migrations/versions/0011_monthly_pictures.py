"""The monthly team picture (issue 14): no schema change. The outbox row holds each post (the figures,
drawn at send time) and its unique key makes it one per channel and month; this revision stays so the
chain, reserved while the work ran in parallel, stays linear.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # nothing to change: see the docstring


def downgrade() -> None:
    pass
