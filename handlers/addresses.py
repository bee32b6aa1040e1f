"""Where a channel message goes: one typed address instead of "<platform>:<id>" strings taken
apart wherever they were read.

Like MessageKind (a StrEnum), an address *is* its stored text ("slack:C0TEAM",
"teams:19:abc@thread.tacv2"): outbox rows, their de-duplication keys and team_schedules.channel
hold what they always held, so no stored data changed. What it adds is that the text is checked
once, when the address is made or read back, and that nobody splits it by hand any more: every
reader asks for ``platform`` and ``channel_id``.
"""

from __future__ import annotations

import re

_PLATFORM = re.compile(r"[a-z][a-z0-9_-]*")  # "slack", "teams", "shell": never a ":" in it


class ChannelAddress(str):
    """A channel on one platform. ``ChannelAddress("slack", "C0TEAM")``, or ``parse`` the stored form."""

    def __new__(cls, platform: str, channel_id: str) -> ChannelAddress:
        if not _PLATFORM.fullmatch(platform):
            raise ValueError(f"not a channel address: platform {platform!r} is no platform name")
        if not channel_id or channel_id.strip() != channel_id or not channel_id.isprintable():
            raise ValueError(f"not a channel address: channel id {channel_id!r} on {platform}")
        return super().__new__(cls, f"{platform}:{channel_id}")

    @classmethod
    def parse(cls, stored: str) -> ChannelAddress:
        """The stored form back; ValueError when it is none. The platform is up to the first ":"
        (Teams channel ids hold colons of their own)."""
        platform, colon, channel_id = stored.partition(":")
        if not colon:
            raise ValueError(f"not a channel address: {stored!r} has no platform")
        return cls(platform, channel_id)

    @property
    def platform(self) -> str:
        return self.partition(":")[0]

    @property
    def channel_id(self) -> str:
        return self.partition(":")[2]

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]  # copy and pickle rebuild it from its parts
        return self.platform, self.channel_id

    def __repr__(self) -> str:
        return f"ChannelAddress({self.platform!r}, {self.channel_id!r})"
