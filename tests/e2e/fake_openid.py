"""Local stand-ins for the Bot Framework's OpenID metadata (login.botframework.com), for tests of the
authenticated /api/messages: `FakeOpenId` publishes a signing key of its own and signs tokens shaped like the
Bot Connector's; `StalledServer` accepts connections and never answers, like a metadata endpoint
that hangs. botbuilder reads the metadata URL from `ChannelValidation.open_id_metadata_endpoint` (tests set it
with monkeypatch; unset it is AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL)."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
METADATA_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"
KEY_ID = "fake-key-1"


class FakeOpenId:
    """The OpenID configuration and key set of the Bot Framework, with one RSA key whose endorsements name
    every channel (so a refusal by channel is the bot's own, not botbuilder's endorsement check). Served from
    a thread of its own, like StalledServer, so a bot that fetches keys with a blocking client still gets
    an answer (and a test of that fails on its assertions instead of hanging)."""

    CHANNELS = ("msteams", "emulator", "slack", "webchat", "directline")

    def __init__(self, endorsements: tuple[str, ...] = CHANNELS) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._endorsements = list(endorsements)
        self.requests: list[str] = []  # paths asked for, in order
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> FakeOpenId:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the name http.server calls
                fake.requests.append(self.path)
                documents = {METADATA_PATH: fake._metadata(), KEYS_PATH: fake._keys()}
                body = json.dumps(documents.get(self.path, {})).encode()
                self.send_response(200 if self.path in documents else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        return self.base_url + METADATA_PATH

    def token(self, app_id: str, service_url: str, *, kid: str = KEY_ID, **claims: Any) -> str:
        """A token as the Bot Connector signs it: issuer api.botframework.com, audience the bot's app id,
        the activity's serviceUrl as a claim."""
        now = int(time.time())
        payload = {"iss": BOT_FRAMEWORK_ISSUER, "aud": app_id, "serviceurl": service_url,
                   "nbf": now - 10, "exp": now + 3600, **claims}
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": kid})

    def _metadata(self) -> dict[str, Any]:
        return {"issuer": BOT_FRAMEWORK_ISSUER, "jwks_uri": self.base_url + KEYS_PATH,
                "id_token_signing_alg_values_supported": ["RS256"]}

    def _keys(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        jwk.update({"kid": KEY_ID, "use": "sig", "endorsements": self._endorsements})
        return {"keys": [jwk]}


class StalledServer:
    """A TCP server in a thread of its own (so it keeps its promise even when the bot's event loop is
    blocked) that accepts connections and never answers. `release()` closes them and stops listening;
    after `limit` seconds it does so itself, so a test of a bot that blocks its loop fails instead of
    hanging."""

    def __init__(self, limit: float = 15.0) -> None:
        self._limit = limit
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._port = self._listener.getsockname()[1]
        self._open: list[socket.socket] = []
        self._released = threading.Event()
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}{METADATA_PATH}"

    def __enter__(self) -> StalledServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
        self._thread.join(5)

    def release(self) -> None:
        self._released.set()

    def _serve(self) -> None:
        deadline = time.monotonic() + self._limit
        while not self._released.is_set() and time.monotonic() < deadline:
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            self._open.append(connection)
            self.accepted += 1
        self._listener.close()  # from now on connecting fails at once, instead of waiting in the backlog
        for connection in self._open:
            connection.close()
