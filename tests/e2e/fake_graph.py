"""A local fake of Microsoft Graph presence and of the Microsoft identity platform's app-only token endpoint,
over HTTPS with a certificate of its own (MSAL accepts only https authorities), for end-to-end tests:

    async with FakeGraph() as graph:
        settings: graph.settings() -> graph_url, graph_login_url, graph_ca_file, graph_app_id/_password
        graph.set_presence(aad_id, "DoNotDisturb", "Focusing")   # changes whenever a test says so
        graph.throttle(retry_after=120)  /  graph.forbid()  /  graph.hang(seconds)  /  graph.malformed()

Every request is recorded (`calls`, `presence_calls()`, `token_calls()`). The login side serves what MSAL
asks for: the tenant's OpenID configuration, then the token endpoint (client credentials, the app id and
secret checked). Presence for a user nobody set is Available/Available, as for someone at their desk."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import itertools
import ssl
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

APP_ID = "00000000-0000-0000-0000-00000000a99a"
APP_SECRET = "fake-graph-secret"


@dataclass
class Call:
    method: str
    path: str
    kind: str  # "openid", "token", "presence", "unknown"
    tenant: str | None
    user_id: str | None
    form: dict[str, str]
    authorization: str | None
    status: int = 0
    at: float = field(default_factory=time.time)


@dataclass
class _Fault:
    status: int
    headers: dict[str, str]
    body: Any
    delay: float = 0.0


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 that is its own CA: the bot is told to trust this file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake graph")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "graph.pem", directory / "graph.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class FakeGraph:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._presence: dict[str, tuple[str, str]] = {}
        self._faults: list[_Fault] = []
        self._forbidden = False
        self._tokens = itertools.count(1)
        self._dir = tempfile.TemporaryDirectory(prefix="fake-graph-")
        self.ca_file, self._key_file = _certificate(Path(self._dir.name))
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def __aenter__(self) -> FakeGraph:
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/v1.0/users/{user_id}/presence", self._user_presence)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.ca_file, self._key_file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context).start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._dir.cleanup()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._port}"

    def settings(self) -> dict[str, Any]:
        """What points the bot at this fake (load_settings keyword arguments)."""
        return {"graph_url": self.url, "graph_login_url": self.url, "graph_ca_file": str(self.ca_file),
                "graph_app_id": APP_ID, "graph_app_password": APP_SECRET}

    # ---- scripting

    def set_presence(self, user_id: str, availability: str, activity: str) -> None:
        self._presence[user_id] = (availability, activity)

    def throttle(self, retry_after: str | None = "120", times: int = 1) -> None:
        """The next `times` presence calls answer 429 (with this Retry-After, None for none)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        body = {"error": {"code": "TooManyRequests", "message": "Too many requests"}}
        self._faults.extend([_Fault(429, headers, body)] * times)

    def fail(self, status: int, times: int = 1) -> None:
        self._faults.extend([_Fault(status, {}, {"error": {"code": "generalException", "message": "x"}})] * times)

    def hang(self, seconds: float, times: int = 1) -> None:
        """The next `times` presence calls answer only after `seconds` (longer than the bot waits: a timeout)."""
        self._faults.extend([_Fault(200, {}, {"availability": "Available", "activity": "Available"}, seconds)] * times)

    def malformed(self, times: int = 1) -> None:
        self._faults.extend([_Fault(200, {}, ["not", "a", "presence"])] * times)

    def forbid(self, forbidden: bool = True) -> None:
        """Presence.Read.All not granted (no admin consent): every presence call answers 403, for good."""
        self._forbidden = forbidden

    # ---- inspection

    def presence_calls(self, user_id: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.kind == "presence" and user_id in (None, c.user_id)]

    def token_calls(self) -> list[Call]:
        return [c for c in self.calls if c.kind == "token"]

    # ---- handlers

    async def _record(self, request: web.Request, kind: str) -> Call:
        form = {k: str(v) for k, v in (await request.post()).items()} if request.method == "POST" else {}
        call = Call(request.method, request.path, kind, request.match_info.get("tenant"),
                    request.match_info.get("user_id"), form, request.headers.get("Authorization"))
        self.calls.append(call)
        return call

    @staticmethod
    def _answer(call: Call, status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
        call.status = status
        return web.json_response(body, status=status, headers=headers)

    async def _openid(self, request: web.Request) -> web.Response:
        call = await self._record(request, "openid")
        base = f"{self.url}/{call.tenant}"
        return self._answer(call, 200, {
            "issuer": f"{base}/v2.0", "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"]})

    async def _token(self, request: web.Request) -> web.Response:
        call = await self._record(request, "token")
        form = call.form
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != APP_ID \
                or form.get("client_secret") != APP_SECRET:
            return self._answer(call, 401, {"error": "invalid_client", "error_description": "AADSTS7000215"})
        if form.get("scope") != f"{self.url}/.default":
            return self._answer(call, 400, {"error": "invalid_scope", "error_description": "AADSTS70011"})
        token = f"graph-token-{call.tenant}-{next(self._tokens)}"
        return self._answer(call, 200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token})

    async def _user_presence(self, request: web.Request) -> web.Response:
        call = await self._record(request, "presence")
        if not (call.authorization or "").startswith("Bearer graph-token-"):
            return self._answer(call, 401, {"error": {"code": "InvalidAuthenticationToken", "message": "no"}})
        if self._forbidden:
            return self._answer(call, 403, {"error": {"code": "Forbidden", "message": "Insufficient privileges"}})
        if self._faults:
            fault = self._faults.pop(0)
            call.status = fault.status
            await asyncio.sleep(fault.delay)
            return self._answer(call, fault.status, fault.body, fault.headers)
        availability, activity = self._presence.get(call.user_id or "", ("Available", "Available"))
        return self._answer(call, 200, {"id": call.user_id, "availability": availability, "activity": activity})

    async def _unknown(self, request: web.Request) -> web.Response:
        call = await self._record(request, "unknown")
        return self._answer(call, 404, {"error": {"code": "NotFound", "message": request.path}})
