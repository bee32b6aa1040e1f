"""The fake Slack Web API of the e2e tests (tests/e2e/fake_slack.py) in a process of its own, so the
answers it gives the bot do not compete with the load generator's event loop.

`python -m bench.fake_api --users 50` prints its base URL on the first line of stdout and serves until
stdin closes. Users U0000.. are known to users.info, so the bot's directory resolves them as in Slack.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from tests.e2e.fake_slack import FakeSlack


def user_id(n: int) -> str:
    return f"U{n:04d}"


def handle(n: int) -> str:
    return f"user{n:04d}"


async def serve(users: int) -> None:
    async with FakeSlack() as fake:
        for n in range(users):
            fake.add_user(user_id(n), handle(n), real_name=f"Persoon {n}")
        print(fake.url, flush=True)
        while await asyncio.to_thread(sys.stdin.readline):
            pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    asyncio.run(serve(parser.parse_args().users))


if __name__ == "__main__":
    main()
