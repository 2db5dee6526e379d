"""In-memory response cache with per-entry TTL and least-recently-used eviction."""

import threading
import time
from collections import OrderedDict


def cache_key(method, url, vary_headers=None):
    """Build the cache key for a request; only GET and HEAD are cacheable."""
    if method.upper() not in ("GET", "HEAD"):
        return None
    parts = [method.upper(), url]
    for name, value in sorted((vary_headers or {}).items()):
        parts.append(f"{name.lower()}={value}")
    return "|".join(parts)


def ttl_from_headers(headers, default_ttl):
    cache_control = headers.get("Cache-Control", "")
    directives = [d.strip().lower() for d in cache_control.split(",") if d.strip()]
    if "no-store" in directives or "no-cache" in directives:
        return 0
    for directive in directives:
        if directive.startswith("max-age="):
            try:
                return max(0, int(directive.split("=", 1)[1]))
            except ValueError:
                break
    return default_ttl


class ResponseCache:
    """Thread-safe cache of responses.

    Each entry lives for ``ttl`` seconds. When more than ``max_entries`` are
    stored, the least recently used entry is evicted first.
    """

    def __init__(self, max_entries=256, default_ttl=60.0, clock=time.monotonic):
        self.max_entries = max_entries
        self.default_ttl = default_ttl
        self._clock = clock
        self._entries = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            expires_at, response = entry
            if expires_at <= self._clock():
                del self._entries[key]
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return response

    def put(self, key, response, ttl=None):
        ttl = self.default_ttl if ttl is None else ttl
        if key is None or ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (self._clock() + ttl, response)
            self._entries.move_to_end(key)
            self._evict_lru()

    def _evict_lru(self):
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def purge_expired(self):
        now = self._clock()
        with self._lock:
            for key in [k for k, (exp, _) in self._entries.items() if exp <= now]:
                del self._entries[key]

    def clear(self):
        with self._lock:
            self._entries.clear()
