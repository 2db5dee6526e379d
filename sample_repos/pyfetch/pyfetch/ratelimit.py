"""Client-side rate limiting with a token bucket."""

import threading
import time

from .errors import RateLimitedError


class TokenBucket:
    """Allows ``rate`` requests per second on average, with bursts up to ``capacity``.

    Tokens refill continuously. Each request consumes one token; when the
    bucket is empty the caller either waits for the next token or gets a
    :class:`RateLimitedError`.
    """

    def __init__(self, rate, capacity=None, clock=time.monotonic, sleep=time.sleep):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.capacity = float(capacity if capacity is not None else rate)
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def _refill(self):
        now = self._clock()
        elapsed = now - self._last
        self._last = now
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)

    def try_acquire(self, tokens=1.0):
        with self._lock:
            self._refill()
            if self._tokens >= tokens:
                self._tokens -= tokens
                return True
            return False

    def acquire(self, tokens=1.0, block=True):
        """Take ``tokens`` from the bucket, sleeping until enough have refilled."""
        while True:
            with self._lock:
                self._refill()
                if self._tokens >= tokens:
                    self._tokens -= tokens
                    return
                missing = tokens - self._tokens
            if not block:
                raise RateLimitedError("rate limit exceeded")
            self._sleep(missing / self.rate)
