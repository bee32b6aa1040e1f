"""How many requests each fuzz test sends at least, over both backends together: each module runs on
SQLite and on PostgreSQL (tests/fuzz/conftest.py) and each run sends its backend's share (``share``),
so adding PostgreSQL did not make the suite send more. Each test asserts it sent its share (counted as
sent, not planned); together they are over the 10,000 generated requests issue 6 asks for."""

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, seed, settings

SLACK_REFUSED = 2_500
SLACK_HUGE = 120
SLACK_SIGNED = 2_400
SLACK_CROSS_PERSON = 900
TEAMS_REFUSED = 1_500
TEAMS_RANDOM = 2_800
TEAMS_CROSS_PERSON = 500

TOTAL = (SLACK_REFUSED + SLACK_HUGE + SLACK_SIGNED + SLACK_CROSS_PERSON
         + TEAMS_REFUSED + TEAMS_RANDOM + TEAMS_CROSS_PERSON)
assert TOTAL >= 10_000

# Half each: SQLite is the default install, PostgreSQL what production runs (and where types, NUL
# characters and integer ranges are stricter).
SHARES = {"sqlite": 0.5, "postgresql": 0.5}
# Each backend draws examples of its own (the same ones every run): PostgreSQL does not repeat SQLite's.
SEEDS = {"postgresql": 20_111}


def share(total: int, backend: str) -> int:
    """The requests of ``total`` that the run on ``backend`` sends."""
    return round(total * SHARES[backend])


def fuzz(examples: int, backend: str | None = None) -> Callable[[Any], Any]:
    """Reproducible runs: the same examples every time (derandomize, or the backend's fixed seed), no
    example database, no deadline (a request's time depends on the machine; performance is measured in
    bench/, not here)."""
    chosen = settings(max_examples=examples, deadline=None, database=None, derandomize=True, print_blob=True,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    if backend not in SEEDS:
        return chosen
    return lambda test: seed(SEEDS[backend])(chosen(test))
