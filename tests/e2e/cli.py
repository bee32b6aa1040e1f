"""Run the installed `vraagbot` command as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

VRAAGBOT = str(Path(sys.executable).parent / "vraagbot")


def run_vraagbot(*args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None,
                 timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([VRAAGBOT, *args], input=stdin, capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=timeout)


def received(transcript: str) -> list[tuple[str, str]]:
    """(recipient, message text) for every '  → name:' block the shell printed."""
    blocks: list[tuple[str, list[str]]] = []
    for line in transcript.splitlines():
        if line.startswith("  → "):
            blocks.append((line[4:].rstrip(":"), []))
        elif line.startswith("      ") and blocks:
            blocks[-1][1].append(line.strip())
        elif blocks and not line.startswith(" "):
            blocks.append(("", []))  # the next input line closes the block
    return [(who, "\n".join(lines)) for who, lines in blocks if who]
