"""Summarise py-spy raw profiles (`py-spy record --format raw`, one "frame;frame;... count" line per
stack): the frames that take the most samples, inclusive (anywhere on the stack) and on top (self).

    python -m bench.profile_summary profiles/postgres-200.txt [--top 25] [--match vraagbot]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def summarise(path: Path, top: int, match: str | None) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        own[frames[-1]] += samples
        packages[_package(frames[-1])] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    def rows(counter: Counter[str]) -> list[str]:
        picked = [(f, n) for f, n in counter.most_common() if match is None or match in f][:top]
        return [f"  {100 * n / total:5.1f}%  {f}" for f, n in picked]

    by_package = [f"  {100 * n / total:5.1f}%  {name}" for name, n in packages.most_common(15)]
    return "\n".join([f"{path.name}: {total} samples", "self time by package:", *by_package, "inclusive:",
                      *rows(inclusive), "self:", *rows(own)])


def _package(frame: str) -> str:
    """The top-level package of a frame "function (package/module.py:line)"; ours by folder name."""
    location = frame.rpartition("(")[2]
    parts = location.split("/")
    return parts[0] if len(parts) > 1 else location.split(".py")[0] or "?"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_summary")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default=None, help="only frames whose text contains this")
    args = parser.parse_args()
    for path in args.files:
        print(summarise(path, args.top, args.match))
        print()


if __name__ == "__main__":
    main()
