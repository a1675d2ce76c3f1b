"""A push service of our own on 127.0.0.1, a real HTTP peer for the Web Push tests and for
`manage.py bench_push`.

It checks what a real one (FCM, Mozilla autopush) checks of a push (RFC 8030, 8292): the VAPID
`Authorization: vapid t=<JWT>, k=<key>` header, whose ES256 signature must verify against k,
with aud = this service's origin, exp in the future and a sub; then it decrypts the aes128gcm
body (RFC 8291) with the browser's side of the keys, which the test made like a browser would
(`Browser`), and records what it got. It answers 201, or whatever it is told (404, 410, 500).
"""

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Browser:
    """A browser's half of a subscription: its ECDH key pair and auth secret (RFC 8291 §3)."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: __import__("os").urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)


@dataclass
class Received:
    path: str
    claims: dict
    payload: dict
    at: float = field(default_factory=time.time)  # when it arrived (wall clock, for bench_push)


def verify_vapid(header: str, origin: str) -> dict:
    """The JWT's claims, if the header is a valid VAPID authorization for `origin`; else
    ValueError saying what is wrong."""
    scheme, _, params = header.partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError(f"scheme {scheme!r} is not vapid")
    parts = dict(part.strip().split("=", 1) for part in params.split(","))
    token, key = parts["t"], parts["k"]
    header_b64, claims_b64, signature_b64 = token.split(".")
    jwt_header = json.loads(b64url_decode(header_b64))
    if jwt_header.get("alg") != "ES256":
        raise ValueError(f"alg {jwt_header.get('alg')!r} is not ES256")
    public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
    raw = b64url_decode(signature_b64)  # JWS: r || s, 32 bytes each
    signature = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
    try:
        public_key.verify(
            signature, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature as exc:
        raise ValueError("bad signature") from exc
    claims = json.loads(b64url_decode(claims_b64))
    if claims.get("aud") != origin:
        raise ValueError(f"aud {claims.get('aud')!r} is not {origin!r}")
    if int(claims.get("exp", 0)) <= time.time():
        raise ValueError("expired")
    if not claims.get("sub"):
        raise ValueError("no sub")
    claims["k"] = key
    return claims


class PushService:
    """Start with `with PushService() as service:`; `service.endpoint(name)` is a URL to
    subscribe with; `service.browsers[name]` the keys; `service.received` what arrived."""

    def __init__(self):
        self.browsers: dict[str, Browser] = {}
        self.received: list[Received] = []
        self.rejected: list[str] = []
        self.hits = 0
        self.answer = 201
        self.delay = 0.0
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                arrived = time.time()
                service.hits += 1
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if service.delay:
                    time.sleep(service.delay)
                try:
                    claims = verify_vapid(self.headers.get("Authorization", ""), service.origin)
                    if self.headers.get("Content-Encoding") != "aes128gcm":
                        raise ValueError("not aes128gcm")
                    browser = service.browsers[self.path.rsplit("/", 1)[-1]]
                    plain = http_ece.decrypt(
                        body,
                        private_key=browser.private_key,
                        auth_secret=browser.auth_secret,
                        version="aes128gcm",
                    )
                except Exception as exc:  # anything wrong is the test's failure to see
                    service.rejected.append(repr(exc))
                    self.send_response(400)
                    self.end_headers()
                    return
                if service.answer == 201:
                    service.received.append(
                        Received(self.path, claims, json.loads(plain), at=arrived)
                    )
                self.send_response(service.answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"

    def endpoint(self, name: str) -> str:
        self.browsers.setdefault(name, Browser())
        return f"{self.origin}/push/{name}"

    def subscription(self, name: str) -> dict:
        """What a browser's PushSubscription.toJSON() gives for a new subscription."""
        endpoint = self.endpoint(name)
        browser = self.browsers[name]
        return {"endpoint": endpoint, "keys": {"p256dh": browser.p256dh, "auth": browser.auth}}

    def __enter__(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
