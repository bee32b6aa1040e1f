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
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    def rows(counter: Counter[str]) -> list[str]:
        picked = [(f, n) for f, n in counter.most_common() if match is None or match in f][:top]
        return [f"  {100 * n / total:5.1f}%  {f}" for f, n in picked]

    return "\n".join([f"{path.name}: {total} samples", "inclusive:", *rows(inclusive), "self:", *rows(own)])


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
