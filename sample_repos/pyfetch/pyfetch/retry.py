"""Retry logic: deciding whether a failed request should be retried and when.

The delay between attempts grows exponentially and is randomised ("jitter")
so that many clients failing at once do not hammer the server in lockstep.
"""

import random
import time
from dataclasses import dataclass, field

from .errors import HTTPStatusError, RetryExhaustedError, TransportError

RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass
class RetryPolicy:
    """How many times to retry and how long to wait between attempts."""

    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.5
    retry_statuses: frozenset = field(default_factory=lambda: RETRYABLE_STATUSES)
    retry_non_idempotent: bool = False

    def __post_init__(self):
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be between 0 and 1")

    @classmethod
    def disabled(cls):
        """A policy that performs exactly one attempt and never retries."""
        return cls(max_attempts=1)


def compute_backoff(policy, attempt, rng=random.random):
    """Return the delay in seconds before retry number ``attempt`` (1-based).

    The raw delay is ``base_delay * multiplier ** (attempt - 1)``, capped at
    ``max_delay``. Jitter then subtracts a random fraction (up to
    ``policy.jitter``) of that delay.
    """
    raw = policy.base_delay * (policy.multiplier ** (attempt - 1))
    capped = min(raw, policy.max_delay)
    if policy.jitter == 0:
        return capped
    reduction = capped * policy.jitter * rng()
    return max(0.0, capped - reduction)


def parse_retry_after(value, now=None):
    """Interpret a Retry-After header given either in seconds or as an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def should_retry(policy, method, error, attempt):
    if attempt >= policy.max_attempts:
        return False
    if method.upper() not in IDEMPOTENT_METHODS and not policy.retry_non_idempotent:
        return False
    if isinstance(error, TransportError):
        return True
    if isinstance(error, HTTPStatusError):
        return error.status in policy.retry_statuses
    return False


def schedule_retry(policy, method, error, attempt, retry_after=None, sleep=time.sleep):
    """Schedule the next attempt of an HTTP request, or give up.

    Called by :meth:`Client.send` after a failed attempt. If the request may be
    retried this blocks for the backoff delay (or the server's Retry-After
    value, whichever is larger) and returns the next attempt number. Otherwise
    it raises :class:`RetryExhaustedError` wrapping the last error.
    """
    if not should_retry(policy, method, error, attempt):
        if attempt <= 1:
            raise error
        raise RetryExhaustedError(attempt, error) from error
    delay = compute_backoff(policy, attempt)
    server_delay = parse_retry_after(retry_after)
    if server_delay is not None:
        delay = max(delay, min(server_delay, policy.max_delay))
    sleep(delay)
    return attempt + 1
