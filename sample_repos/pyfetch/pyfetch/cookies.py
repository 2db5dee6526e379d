"""Minimal cookie handling: parsing headers and keeping a per-domain jar."""

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime


@dataclass
class Cookie:
    name: str
    value: str
    domain: str = ""
    path: str = "/"
    expires: float = None
    secure: bool = False
    http_only: bool = False

    def is_expired(self, now=None):
        now = time.time() if now is None else now
        return self.expires is not None and self.expires <= now

    def matches(self, domain, path, secure):
        if self.secure and not secure:
            return False
        if self.domain and not (domain == self.domain or domain.endswith("." + self.domain)):
            return False
        return path.startswith(self.path)


def parse_cookie_header(header):
    """Parse a request ``Cookie:`` header (``a=1; b=2``) into a dict.

    Pairs without ``=`` are skipped, surrounding whitespace and double quotes
    around values are removed. Later duplicates win.
    """
    cookies = {}
    for part in header.split(";"):
        if "=" not in part:
            continue
        name, _, value = part.partition("=")
        name = name.strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name:
            cookies[name] = value
    return cookies


def parse_set_cookie(header, request_domain, now=None):
    """Turn one ``Set-Cookie`` response header into a :class:`Cookie`."""
    now = time.time() if now is None else now
    first, *attributes = header.split(";")
    name, _, value = first.partition("=")
    cookie = Cookie(name=name.strip(), value=value.strip(), domain=request_domain)
    for attr in attributes:
        key, _, val = attr.strip().partition("=")
        key = key.lower()
        if key == "domain":
            cookie.domain = val.lstrip(".").lower()
        elif key == "path":
            cookie.path = val or "/"
        elif key == "max-age" and val.lstrip("-").isdigit():
            cookie.expires = now + int(val)
        elif key == "expires" and cookie.expires is None:
            try:
                cookie.expires = parsedate_to_datetime(val).timestamp()
            except (TypeError, ValueError):
                pass
        elif key == "secure":
            cookie.secure = True
        elif key == "httponly":
            cookie.http_only = True
    return cookie


class CookieJar:
    """Stores cookies received from servers and replays them on later requests."""

    def __init__(self):
        self._cookies = {}

    def set(self, cookie):
        key = (cookie.domain, cookie.path, cookie.name)
        if cookie.is_expired():
            self._cookies.pop(key, None)
        else:
            self._cookies[key] = cookie

    def get(self, domain, path="/", secure=True):
        """Return the ``name -> value`` mapping to send to ``domain``/``path``."""
        result = {}
        for cookie in sorted(self._cookies.values(), key=lambda c: len(c.path)):
            if not cookie.is_expired() and cookie.matches(domain, path, secure):
                result[cookie.name] = cookie.value
        return result

    def expire(self, now=None):
        """Drop every cookie whose expiry time has passed; return how many were removed."""
        stale = [key for key, c in self._cookies.items() if c.is_expired(now)]
        for key in stale:
            del self._cookies[key]
        return len(stale)

    def header_for(self, domain, path="/", secure=True):
        pairs = self.get(domain, path, secure)
        return "; ".join(f"{k}={v}" for k, v in pairs.items())

    def __len__(self):
        return len(self._cookies)
