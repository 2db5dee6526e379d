"""The :class:`Client` ties together transport, retries, auth, cookies, caching and rate limiting."""

import http.client
import json
import socket
import ssl
import urllib.parse

from .cache import ResponseCache, cache_key, ttl_from_headers
from .cookies import CookieJar, parse_set_cookie
from .errors import HTTPStatusError, RequestTimeoutError, TransportError
from .ratelimit import TokenBucket
from .retry import RetryPolicy, schedule_retry


class Response:
    """A fully-read HTTP response."""

    def __init__(self, status, reason, headers, body, url):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.url = url

    @property
    def ok(self):
        return 200 <= self.status < 400

    def text(self, encoding="utf-8"):
        return self.body.decode(encoding, errors="replace")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def raise_for_status(self):
        if not self.ok:
            raise HTTPStatusError(
                self.status,
                self.reason,
                url=self.url,
                body=self.body,
                retry_after=self.headers.get("Retry-After"),
            )
        return self


class Client:
    """A reusable HTTP client.

    One ``Client`` keeps a pool of keep-alive connections (one per host), a
    cookie jar, an optional response cache and an optional rate limiter.
    Use it as a context manager or call :meth:`close` when done.
    """

    def __init__(
        self,
        base_url="",
        *,
        timeout=10.0,
        retry=None,
        auth=None,
        cache=None,
        rate_limiter=None,
        headers=None,
        verify_tls=True,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.auth = auth
        self.cache = cache
        self.rate_limiter = rate_limiter
        self.default_headers = {"User-Agent": "pyfetch/0.4", "Accept": "*/*"}
        self.default_headers.update(headers or {})
        self.cookies = CookieJar()
        self._verify_tls = verify_tls
        self._connections = {}
        self._closed = False
        self.requests_sent = 0

    @classmethod
    def from_settings(cls, settings, **overrides):
        """Create a client from a :class:`pyfetch.config.Settings` object."""
        retry = RetryPolicy(max_attempts=settings.max_attempts, base_delay=settings.backoff_base)
        cache = None
        if settings.cache_ttl > 0:
            cache = ResponseCache(settings.cache_max_entries, settings.cache_ttl)
        limiter = TokenBucket(settings.rate_limit) if settings.rate_limit > 0 else None
        kwargs = dict(
            timeout=settings.timeout,
            retry=retry,
            cache=cache,
            rate_limiter=limiter,
            headers={"User-Agent": settings.user_agent},
            verify_tls=settings.verify_tls,
        )
        kwargs.update(overrides)
        return cls(settings.base_url, **kwargs)

    def _build_url(self, path, params=None):
        if path.startswith(("http://", "https://")):
            url = path
        else:
            url = f"{self.base_url}/{path.lstrip('/')}"
        if params:
            separator = "&" if "?" in url else "?"
            url += separator + urllib.parse.urlencode(params, doseq=True)
        return url

    def _connection(self, parsed):
        key = (parsed.scheme, parsed.hostname, parsed.port)
        conn = self._connections.get(key)
        if conn is None:
            if parsed.scheme == "https":
                context = ssl.create_default_context()
                if not self._verify_tls:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                conn = http.client.HTTPSConnection(
                    parsed.hostname, parsed.port, timeout=self.timeout, context=context
                )
            else:
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=self.timeout)
            self._connections[key] = conn
        return conn

    def _prepare_headers(self, parsed, headers):
        merged = dict(self.default_headers)
        merged.update(headers or {})
        cookie_header = self.cookies.header_for(
            parsed.hostname or "", parsed.path or "/", parsed.scheme == "https"
        )
        if cookie_header:
            merged["Cookie"] = cookie_header
        if self.auth is not None:
            self.auth.apply(merged)
        return merged

    def _store_cookies(self, parsed, raw_headers):
        for name, value in raw_headers:
            if name.lower() == "set-cookie":
                self.cookies.set(parse_set_cookie(value, parsed.hostname or ""))

    def _perform(self, method, url, headers, body):
        """Do a single HTTP exchange with no retries; raise on network errors."""
        parsed = urllib.parse.urlsplit(url)
        conn = self._connection(parsed)
        target = parsed.path or "/"
        if parsed.query:
            target += "?" + parsed.query
        try:
            conn.request(method, target, body=body, headers=self._prepare_headers(parsed, headers))
            raw = conn.getresponse()
            payload = raw.read()
        except socket.timeout as exc:
            conn.close()
            raise RequestTimeoutError(f"timed out after {self.timeout}s", url=url, cause=exc) from exc
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            self._connections.pop((parsed.scheme, parsed.hostname, parsed.port), None)
            raise TransportError(str(exc), url=url, cause=exc) from exc
        self.requests_sent += 1
        self._store_cookies(parsed, raw.getheaders())
        return Response(raw.status, raw.reason, dict(raw.getheaders()), payload, url)

    def send(self, method, path, *, params=None, headers=None, body=None, use_cache=True):
        """Send a request, honouring the cache, the rate limiter and the retry policy.

        Returns a :class:`Response` for any status below 400 and raises
        :class:`HTTPStatusError` (possibly wrapped in ``RetryExhaustedError``)
        otherwise.
        """
        if self._closed:
            raise RuntimeError("client is closed")
        method = method.upper()
        url = self._build_url(path, params)
        key = cache_key(method, url) if (self.cache is not None and use_cache) else None
        if key is not None:
            cached = self.cache.get(key)
            if cached is not None:
                return cached
        attempt = 1
        while True:
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            retry_after = None
            try:
                response = self._perform(method, url, headers, body).raise_for_status()
            except HTTPStatusError as exc:
                error = exc
                retry_after = exc.retry_after if exc.status in (429, 503) else None
            except TransportError as exc:
                error = exc
            else:
                if key is not None:
                    self.cache.put(key, response, ttl_from_headers(response.headers, self.cache.default_ttl))
                return response
            attempt = schedule_retry(self.retry, method, error, attempt, retry_after=retry_after)

    def get(self, path, *, params=None, headers=None):
        return self.send("GET", path, params=params, headers=headers)

    def head(self, path, *, headers=None):
        return self.send("HEAD", path, headers=headers)

    def post(self, path, *, json_body=None, data=None, headers=None):
        """POST either a JSON document (``json_body``) or raw bytes/form data (``data``)."""
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(data, dict):
            body = urllib.parse.urlencode(data).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        else:
            body = data
        return self.send("POST", path, headers=headers, body=body, use_cache=False)

    def put(self, path, *, json_body=None, headers=None):
        headers = dict(headers or {})
        headers.setdefault("Content-Type", "application/json")
        body = json.dumps(json_body).encode("utf-8")
        return self.send("PUT", path, headers=headers, body=body, use_cache=False)

    def delete(self, path, *, headers=None):
        return self.send("DELETE", path, headers=headers, use_cache=False)

    def close(self):
        """Close every pooled connection; further requests raise ``RuntimeError``."""
        for conn in self._connections.values():
            try:
                conn.close()
            except OSError:
                pass
        self._connections.clear()
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    def __repr__(self):
        state = "closed" if self._closed else "open"
        return f"<Client base_url={self.base_url!r} {state}>"
