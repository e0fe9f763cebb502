"""A small OpenID Connect provider on localhost, standing in for Google in tests.

It serves discovery, an authorize endpoint that approves at once (redirecting back with a
code and the state), a token endpoint that answers an RS256-signed id_token, JWKS and
userinfo. `user` is who "signs in" next; `tamper` makes the id_token wrong in one way.
`claims_in` says where the user's claims go: "id_token" (as Google does) or "userinfo",
where the id_token holds only `sub` and the claims are served, to the bearer of the access
token, by the UserInfo endpoint (as OpenID Connect allows, and panva's oidc-provider does).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID = "xeno-test-client.apps.example"
CLIENT_SECRET = "xeno-test-client-secret"
KID = "test-key-1"
TAMPERINGS = (
    "other_key",
    "unknown_kid",
    "wrong_nonce",
    "wrong_audience",
    "wrong_issuer",
    "expired",
)


def default_user() -> dict[str, Any]:
    """An allowed, verified account."""
    return {
        "sub": "1234567890",
        "email": "asha@xeno.test",
        "email_verified": True,
        "name": "Asha Rao",
        "picture": "https://example.invalid/asha.png",
    }


class FakeProvider:
    """The provider's state and its WSGI app; `start()` serves it on a free local port."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": KID})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": KID})
        self.server: BaseWSGIServer | None = None
        self.url = ""
        self.reset()

    def reset(self) -> None:
        """Forget codes and go back to the default user and an honest id_token."""
        self.user: dict[str, Any] = default_user()
        self.tamper: str | None = None
        self.claims_in = "id_token"
        self.userinfo_override: dict[str, Any] = {}  # claims UserInfo answers differently
        self.userinfo_status = 200
        self.codes: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, dict[str, Any]] = {}
        self.token_requests = 0
        self.userinfo_requests = 0

    # --- serving -------------------------------------------------------------------------
    def start(self) -> FakeProvider:
        """Serve on 127.0.0.1, port 0 (any free port), in a daemon thread."""
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Shut the server down."""
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def discovery_url(self) -> str:
        """Where the app reads the provider's metadata."""
        return self.url + "/.well-known/openid-configuration"

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Route a request to one of the provider's endpoints."""
        request = Request(environ)
        routes = {
            "/.well-known/openid-configuration": self.discovery,
            "/authorize": self.authorize,
            "/token": self.token,
            "/jwks": self.jwks,
            "/userinfo": self.userinfo,
        }
        handler = routes.get(request.path)
        response = handler(request) if handler else _json({"error": "not_found"}, 404)
        return response(environ, start_response)

    # --- endpoints -----------------------------------------------------------------------
    def discovery(self, request: Request) -> Response:
        """OpenID discovery document."""
        return _json(
            {
                "issuer": self.url,
                "authorization_endpoint": self.url + "/authorize",
                "token_endpoint": self.url + "/token",
                "userinfo_endpoint": self.url + "/userinfo",
                "jwks_uri": self.url + "/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    def authorize(self, request: Request) -> Response:
        """Approve at once: redirect back with a fresh code and the caller's state."""
        args = request.args
        if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
            return _json({"error": "invalid_request"}, 400)
        if "openid" not in args.get("scope", "").split():
            return _json({"error": "invalid_scope"}, 400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "redirect_uri": args["redirect_uri"],
            "nonce": args.get("nonce"),
            "code_challenge": args.get("code_challenge"),
            "user": dict(self.user),
        }
        query = urlencode({"code": code, "state": args.get("state", "")})
        return Response(status=302, headers={"Location": f"{args['redirect_uri']}?{query}"})

    def token(self, request: Request) -> Response:
        """Exchange a code for tokens, checking client credentials, redirect_uri and PKCE."""
        self.token_requests += 1
        form = request.form
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if request.authorization and request.authorization.type == "basic":
            client_id = request.authorization.username
            secret = request.authorization.password
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            return _json({"error": "invalid_client"}, 401)
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return _json({"error": "invalid_grant"}, 400)
        if grant["code_challenge"]:
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["code_challenge"]:
                return _json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        access_token = secrets.token_urlsafe(16)
        self.access_tokens[access_token] = grant["user"]
        in_token = grant["user"] if self.claims_in == "id_token" else {"sub": grant["user"]["sub"]}
        return _json(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": "openid email profile",
                "id_token": self.id_token(in_token, grant["nonce"]),
            }
        )

    def jwks(self, request: Request) -> Response:
        """The public half of the signing key."""
        return _json(KeySet([self.key]).as_dict(private=False))

    def userinfo(self, request: Request) -> Response:
        """The claims of the user an access token was issued for (RFC 6750 bearer only)."""
        self.userinfo_requests += 1
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        user = self.access_tokens.get(value) if scheme.lower() == "bearer" else None
        if user is None:
            return _json({"error": "invalid_token"}, 401)
        if self.userinfo_status != 200:
            return _json({"error": "server_error"}, self.userinfo_status)
        return _json({**user, **self.userinfo_override})

    # --- tokens --------------------------------------------------------------------------
    def id_token(self, user: dict[str, Any], nonce: str | None) -> str:
        """Sign the id_token, wrong in the way `tamper` says."""
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 3600,
            "nonce": nonce,
            **user,
        }
        key, kid = self.key, KID
        if self.tamper == "other_key":
            key = self.other_key  # same kid, different key: the signature cannot verify
        elif self.tamper == "unknown_kid":
            key, kid = RSAKey.generate_key(2048, parameters={"kid": "stranger"}), "stranger"
        elif self.tamper == "wrong_nonce":
            claims["nonce"] = "not-the-nonce-the-app-sent"
        elif self.tamper == "wrong_audience":
            claims["aud"] = "somebody-elses-client"
        elif self.tamper == "wrong_issuer":
            claims["iss"] = "https://evil.example"
        elif self.tamper == "expired":
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
