"""Which Bot Framework service URLs the bot may contact. An activity's serviceUrl is only JSON in the
request body (the token does not make it trustworthy in local testing, and an old stored reference may
predate this check), and the bot sends its replies, proactive messages and, with an app id, its Azure AD
token there. So every serviceUrl is checked, on receipt and again before each send, by `ServiceUrls.allows`.

No botbuilder here: settings and the CLI use this module too."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# Microsoft's Teams service hosts (the Teams SDK's documented allow-list, "Service URL Validation"):
# public cloud, GCC, GCC High, DoD and China (21Vianet). Exact hosts, https only.
DEFAULT_SERVICE_URLS = (
    "https://smba.trafficmanager.net",
    "https://smba.onyx.prod.teams.trafficmanager.net",
    "https://smba.infra.gcc.teams.microsoft.com",
    "https://smba.infra.gov.teams.microsoft.us",
    "https://smba.infra.dod.teams.microsoft.us",
    "https://frontend.botapi.msg.infra.teams.microsoftonline.cn",
)
DEFAULT_PORTS = {"https": 443, "http": 80}
# What a Bot Framework service URL is made of. Nothing else (no spaces, backslashes, '@', '?', '#'),
# so no URL parser down the line can read a different host or path into it than we did.
PLAIN_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~%!$&'()*+,;=:/-]*)?")


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: a server bound there is reachable from this machine only."""
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int


def _origin(url: str) -> Origin | None:
    """scheme, host and port of a plain http(s) URL without credentials, query or fragment; else None."""
    if not PLAIN_URL.fullmatch(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number or out of range
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None
    return Origin(parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme])


def _parse_entry(entry: str) -> Origin:
    origin = _origin(entry)
    if origin is None or "*" in entry:
        if "*" in entry:
            raise ValueError(f"{entry!r}: list each exact host, no wildcards")
        raise ValueError(f"{entry!r}: each entry must look like https://host or https://host:port")
    if urlsplit(entry).path not in ("", "/"):
        raise ValueError(f"{entry!r}: an origin only, no path (any path on an allowed host is accepted)")
    if origin.scheme == "http" and not is_loopback_host(origin.host):
        raise ValueError(f"{entry!r}: https is required (http only for a local fake on 127.0.0.1)")
    return origin


@dataclass(frozen=True)
class ServiceUrls:
    """The allow-list: a service URL is allowed when its scheme, exact host and port are on it."""

    origins: frozenset[Origin]

    @classmethod
    def parse(cls, text: str) -> ServiceUrls:
        """From the comma-separated VRAAGBOT_TEAMS_SERVICE_URLS; ValueError says what is wrong."""
        entries = [entry.strip() for entry in text.split(",") if entry.strip()]
        if not entries:
            raise ValueError("list at least one service URL, e.g. https://smba.trafficmanager.net")
        return cls(frozenset(_parse_entry(entry) for entry in entries))

    def allows(self, url: object) -> bool:
        """The one check for every serviceUrl, on receipt and before every send."""
        return isinstance(url, str) and _origin(url) in self.origins
