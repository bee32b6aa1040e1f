"""The Bot Framework's token signing keys, fetched without blocking the event loop.

botbuilder's own key source (`_OpenIdMetadata` in botframework/connector/auth/jwt_token_extractor.py) fetches
the OpenID metadata and key set with blocking `requests` and no timeout, on the event loop, whenever a token
names a trusted issuer: a forged token was enough to stall every request (health checks included) for as long
as the fetch hung, and a failed fetch ended in a 500 and was tried again by the next forged token. Its
`JwtTokenExtractor` asks `get_open_id_metadata(url)` for the source of a metadata URL; `install()` makes that
return a `SigningKeys` from here, which botbuilder then uses like its own (`await source.get(key_id)` gives
an object with `public_key` and `endorsements`):

- fetched with aiohttp, both documents within FETCH_TIMEOUT_SECONDS, at most one fetch at a time;
- kept for KEYS_FRESH_SECONDS (botbuilder's day), refetched for an unknown key id at most every
  UNKNOWN_KEY_REFETCH_SECONDS, and after a failed fetch not tried again for FAILURE_PAUSE_SECONDS
  (keys we already have stay in use meanwhile);
- no key, whatever the reason: PermissionError, which the platform answers with 401.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger(__name__)

FETCH_TIMEOUT_SECONDS = 10.0
KEYS_FRESH_SECONDS = 24 * 3600.0
UNKNOWN_KEY_REFETCH_SECONDS = 300.0
FAILURE_PAUSE_SECONDS = 30.0
MAX_DOCUMENT_BYTES = 1024 * 1024  # the real documents are a few KB


@dataclass(frozen=True)
class SigningKey:
    public_key: Any
    endorsements: list[str]


class SigningKeys:
    """The keys published at one OpenID metadata URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._fetch: asyncio.Task[None] | None = None

    async def get(self, key_id: object) -> SigningKey:
        """The key a token names (its `kid`); PermissionError when there is none to be had."""
        now = time.monotonic()
        stale = self._fetched_at is None or now - self._fetched_at > KEYS_FRESH_SECONDS
        unknown = key_id not in self._keys and (self._fetched_at is None
                                                or now - self._fetched_at > UNKNOWN_KEY_REFETCH_SECONDS)
        if stale or unknown:
            await self._refresh()
        key = self._keys.get(key_id) if isinstance(key_id, str) else None
        if key is None:
            raise PermissionError("Unauthorized. The token is not signed with a Bot Framework key.")
        return key

    async def _refresh(self) -> None:
        if self._failed_at is not None and time.monotonic() - self._failed_at < FAILURE_PAUSE_SECONDS:
            if not self._keys:
                raise PermissionError("Unauthorized. The Bot Framework signing keys are unavailable.")
            return
        loop = asyncio.get_running_loop()
        if self._fetch is None or self._fetch.done() or self._fetch.get_loop() is not loop:
            self._fetch = loop.create_task(self._download())
            self._fetch.add_done_callback(_retrieve)  # its failure is logged once, not as "never retrieved"
        try:
            # shielded: a request that gives up (client gone) does not cancel the fetch the others wait for
            await asyncio.shield(self._fetch)
        except Exception:
            if not self._keys:
                raise PermissionError("Unauthorized. The Bot Framework signing keys are unavailable.") from None

    async def _download(self) -> None:
        try:
            timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)
            async with asyncio.timeout(FETCH_TIMEOUT_SECONDS), aiohttp.ClientSession(timeout=timeout) as session:
                metadata = await _document(session, self.url)
                jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
                if not isinstance(jwks_uri, str):
                    raise ValueError("the metadata names no jwks_uri")
                keys = _keys_of(await _document(session, jwks_uri))
        except Exception as error:
            self._failed_at = time.monotonic()
            log.warning("teams: could not fetch the Bot Framework signing keys from %s: %s", self.url,
                        f"{type(error).__name__}: {error}"[:200] if str(error) else type(error).__name__)
            raise
        self._keys, self._fetched_at, self._failed_at = keys, time.monotonic(), None


def _retrieve(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()


async def _document(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        response.raise_for_status()
        body = await response.content.read(MAX_DOCUMENT_BYTES + 1)
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"{url} answered more than {MAX_DOCUMENT_BYTES} bytes")
    return json.loads(body)


def _keys_of(document: Any) -> dict[str, SigningKey]:
    """The RSA keys of a JWK set by key id; keys of another type or shape are left out."""
    entries = document.get("keys") if isinstance(document, dict) else None
    keys: dict[str, SigningKey] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(json.dumps(entry))
        except Exception:  # not an RSA key, or a broken one
            continue
        endorsements = entry.get("endorsements")
        keys[entry["kid"]] = SigningKey(public_key, [e for e in endorsements if isinstance(e, str)]
                                        if isinstance(endorsements, list) else [])
    if not keys:
        raise ValueError("the key set holds no usable RSA key")
    return keys


_sources: dict[str, SigningKeys] = {}


def signing_keys_for(url: str) -> SigningKeys:
    """The one key source per metadata URL in this process (the keys are the Bot Framework's, not ours)."""
    if url not in _sources:
        _sources[url] = SigningKeys(url)
    return _sources[url]


def install() -> None:
    """botbuilder takes its keys from here from now on (idempotent)."""
    JwtTokenExtractor.get_open_id_metadata = staticmethod(signing_keys_for)
