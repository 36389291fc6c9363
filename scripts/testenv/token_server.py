"""A small, real Docker registry token server for the Seawall test environment.

It implements the token flow of docker/distribution ("registry" 2.8,
docs/spec/auth/token.md and jwt.md) so that tests exercise the same Bearer
challenge a real private registry uses:

* ``GET /token?service=...&scope=...`` with HTTP Basic credentials (what
  dockerd and most clients send), or ``POST /token`` with an OAuth2
  ``grant_type=password`` form. Wrong or missing credentials get 401; a valid
  user is granted every scope it asks for.
* Tokens are RS256 JWTs signed with a key generated at startup. The header
  carries both ways registry 2.8 can find the verification key:
  ``x5c`` (the self-signed certificate, verified against ``rootcertbundle``)
  and ``kid`` (the libtrust key id of that certificate's public key).
  The claims use a *string* ``aud`` because registry 2.8 unmarshals it as one.

At startup it writes the certificate (for the registry's ``rootcertbundle``),
the private key (so tests can mint their own tokens) and finally the port it
listens on, each atomically, so a supervising script can wait for the port file.
Needs only the standard library plus ``cryptography``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

TOKEN_LIFETIME_SECONDS = 300
MAX_FORM_BYTES = 64 * 1024


def b64url(data: bytes) -> str:
    """Base64url without padding, as JOSE requires."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def libtrust_key_id(public_key: rsa.RSAPublicKey) -> str:
    """The libtrust key id registry 2.8 uses to index ``rootcertbundle`` keys.

    SHA-256 of the DER SubjectPublicKeyInfo, first 240 bits, base32 without
    padding, in twelve colon-separated groups of four characters.
    """
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode("ascii").rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def make_key_and_cert(common_name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A fresh RSA key and a self-signed certificate for it (valid one day)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def sign_jwt(
    key: rsa.RSAPrivateKey,
    claims: dict[str, Any],
    *,
    kid: str | None = None,
    x5c: list[str] | None = None,
) -> str:
    """Compact RS256 JWS of ``claims`` with the given key-locating headers."""
    header: dict[str, Any] = {"typ": "JWT", "alg": "RS256"}
    if kid is not None:
        header["kid"] = kid
    if x5c is not None:
        header["x5c"] = x5c
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(signature)


def parse_scope(scope: str) -> dict[str, Any] | None:
    """``repository:name/with/slashes:pull,push`` -> a registry ``access`` entry."""
    head, sep, actions = scope.rpartition(":")
    kind, sep2, name = head.partition(":")
    if not sep or not sep2 or not kind or not name:
        return None
    return {"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]}


def registry_claims(
    *, issuer: str, service: str, subject: str, scopes: list[str], lifetime: int
) -> dict[str, Any]:
    """The claim set registry 2.8 verifies: iss, aud (a string), nbf/exp, access."""
    now = int(time.time())
    access = [entry for entry in map(parse_scope, scopes) if entry is not None]
    return {
        "iss": issuer,
        "sub": subject,
        "aud": service,
        "exp": now + lifetime,
        "nbf": now - 1,
        "iat": now,
        "jti": secrets.token_hex(16),
        "access": access,
    }


class TokenIssuer:
    """Holds the signing material and the single accepted user."""

    def __init__(self, *, issuer: str, service: str, user: str, password: str) -> None:
        self.issuer = issuer
        self.service = service
        self.user = user
        self.password = password
        self.key, self.cert = make_key_and_cert(issuer)
        self.kid = libtrust_key_id(self.key.public_key())
        self.x5c = [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()]

    def credentials_ok(self, user: str, password: str) -> bool:
        """Constant-time check of the fixed test credentials."""
        return hmac.compare_digest(user.encode(), self.user.encode()) and hmac.compare_digest(
            password.encode(), self.password.encode()
        )

    def issue(self, subject: str, scopes: list[str]) -> dict[str, Any]:
        """The JSON body of a successful token response."""
        claims = registry_claims(
            issuer=self.issuer,
            service=self.service,
            subject=subject,
            scopes=scopes,
            lifetime=TOKEN_LIFETIME_SECONDS,
        )
        token = sign_jwt(self.key, claims, kid=self.kid, x5c=self.x5c)
        issued_at = dt.datetime.fromtimestamp(claims["iat"], dt.UTC)
        return {
            "token": token,
            "access_token": token,
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "issued_at": issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """Decode an ``Authorization: Basic`` header, or None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


class Handler(BaseHTTPRequestHandler):
    """HTTP front end: /token (GET basic auth, POST password grant) and /healthz."""

    server: TokenHTTPServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/healthz":
            self._json(200, {"ok": True})
            return
        if url.path != "/token":
            self._json(404, {"errors": [{"code": "NOT_FOUND"}]})
            return
        query = parse_qs(url.query)
        creds = basic_credentials(self.headers.get("Authorization"))
        self._grant(creds, query.get("service", [""])[0], query.get("scope", []))

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/token":
            self._json(404, {"errors": [{"code": "NOT_FOUND"}]})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_FORM_BYTES:
            self._json(413, {"errors": [{"code": "TOO_LARGE"}]})
            return
        form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        if form.get("grant_type", [""])[0] != "password":
            self._json(400, {"error": "unsupported_grant_type"})
            return
        creds = (form.get("username", [""])[0], form.get("password", [""])[0])
        scopes = [s for value in form.get("scope", []) for s in value.split(" ") if s]
        self._grant(creds, form.get("service", [""])[0], scopes)

    def _grant(self, creds: tuple[str, str] | None, service: str, scopes: list[str]) -> None:
        issuer = self.server.issuer
        if service and service != issuer.service:
            self._json(400, {"errors": [{"code": "DENIED", "message": "unknown service"}]})
            return
        if creds is None or not issuer.credentials_ok(*creds):
            self._json(
                401,
                {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                {"WWW-Authenticate": 'Basic realm="seawall-testenv-token"'},
            )
            return
        self._json(200, issuer.issue(creds[0], scopes))

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class TokenHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that carries the TokenIssuer for its handlers."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], issuer: TokenIssuer) -> None:
        super().__init__(address, Handler)
        self.issuer = issuer


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write via a temporary file and rename, so readers never see a partial file."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--cert-file", type=Path, required=True)
    parser.add_argument("--key-file", type=Path, required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument(
        "--password-env",
        default="SEAWALL_TOKEN_SERVER_PASSWORD",
        help="environment variable holding the password (kept off the command line)",
    )
    args = parser.parse_args(argv)
    password = os.environ.get(args.password_env)
    if not password:
        parser.error(f"${args.password_env} is not set")

    issuer = TokenIssuer(
        issuer=args.issuer, service=args.service, user=args.user, password=password
    )
    server = TokenHTTPServer((args.listen, args.port), issuer)
    write_atomic(args.cert_file, issuer.cert.public_bytes(serialization.Encoding.PEM))
    key_pem = issuer.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_atomic(args.key_file, key_pem, 0o600)
    write_atomic(args.port_file, f"{server.server_address[1]}\n".encode())
    print(f"token server on {args.listen}:{server.server_address[1]} kid={issuer.kid}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
