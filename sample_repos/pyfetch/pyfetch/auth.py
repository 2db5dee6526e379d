"""Authentication helpers that add an ``Authorization`` header to requests."""

import base64
import json
import threading
import time
import urllib.parse
import urllib.request

from .errors import AuthError


class BasicAuth:
    def __init__(self, username, password):
        if ":" in username:
            raise ValueError("username may not contain ':'")
        self.username = username
        self.password = password

    def apply(self, headers):
        raw = f"{self.username}:{self.password}".encode("utf-8")
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
        return headers


class BearerToken:
    """A static bearer token, e.g. a personal access token."""

    def __init__(self, token):
        self.token = token

    def apply(self, headers):
        headers["Authorization"] = f"Bearer {self.token}"
        return headers


class RefreshingToken:
    """OAuth2 client-credentials token that renews itself shortly before expiry.

    The token endpoint is called lazily on first use and again whenever fewer
    than ``leeway`` seconds of validity remain. A lock makes sure concurrent
    threads trigger only one refresh.
    """

    def __init__(self, token_url, client_id, client_secret, scope=None, leeway=30.0):
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self.leeway = leeway
        self._access_token = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def _needs_refresh(self, now):
        return self._access_token is None or now >= self._expires_at - self.leeway

    def refresh(self):
        """Request a new access token from the token endpoint and store it."""
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        body = urllib.parse.urlencode(form).encode("ascii")
        request = urllib.request.Request(self.token_url, data=body, method="POST")
        BasicAuth(self.client_id, self.client_secret).apply(request.headers)
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                payload = json.loads(resp.read().decode("utf-8"))
        except Exception as exc:  # noqa: BLE001 - wrap everything as AuthError
            raise AuthError(f"token refresh failed: {exc}") from exc
        if "access_token" not in payload:
            raise AuthError("token endpoint response has no access_token")
        self._access_token = payload["access_token"]
        self._expires_at = time.time() + float(payload.get("expires_in", 3600))

    def apply(self, headers):
        with self._lock:
            if self._needs_refresh(time.time()):
                self.refresh()
            headers["Authorization"] = f"Bearer {self._access_token}"
        return headers
