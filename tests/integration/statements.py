"""Count what reaches the database: SQL statements and transactions, through SQLAlchemy's event hooks.

Transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) is not counted as a statement:
transactions are counted on their own, from the engine's ``begin`` event, because on PostgreSQL
(asyncpg) BEGIN never passes the cursor hook while on SQLite it does (storage.engine issues
BEGIN IMMEDIATE itself).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END")
_WRITE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)
    transactions: int = 0

    @property
    def writes(self) -> Counter[str]:
        """How many writing statements each table got: shows the counted work was the intended one."""
        return Counter(m.group(1) for sql in self.statements if (m := _WRITE.match(sql)))

    def __str__(self) -> str:
        listing = "\n".join(f"  {n:2}. {' '.join(sql.split())[:160]}" for n, sql in enumerate(self.statements, 1))
        return f"{len(self.statements)} statements in {self.transactions} transactions:\n{listing}"


def _is_transaction_control(sql: str) -> bool:
    words = sql.lstrip().split(None, 1)
    return bool(words) and words[0].upper() in _TRANSACTION_CONTROL


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[Counted]:
    """Everything ``engine`` runs inside the block; read the figures after it (or during)."""
    counted = Counted()

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if not _is_transaction_control(statement):
            counted.statements.append(statement)

    def on_begin(_conn: Any) -> None:
        counted.transactions += 1

    sync_engine = engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", on_statement)
    event.listen(sync_engine, "begin", on_begin)
    try:
        yield counted
    finally:
        event.remove(sync_engine, "before_cursor_execute", on_statement)
        event.remove(sync_engine, "begin", on_begin)
