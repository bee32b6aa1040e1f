"""One event loop thread per fuzz module; see tests/fuzz/loop.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fuzz.harness import fresh_database
from tests.fuzz.loop import LoopThread


@pytest.fixture(scope="module")
def loop_thread() -> Iterator[LoopThread]:
    with LoopThread() as loop:
        yield loop


@pytest.fixture(scope="module")
def module_database(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return fresh_database(_sqlite_template, tmp_path_factory.mktemp("fuzz"))
