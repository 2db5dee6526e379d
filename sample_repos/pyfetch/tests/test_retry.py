import pytest

from pyfetch.errors import HTTPStatusError, RetryExhaustedError, TransportError
from pyfetch.retry import RetryPolicy, compute_backoff, parse_retry_after, schedule_retry, should_retry


def test_backoff_grows_exponentially_without_jitter():
    policy = RetryPolicy(base_delay=1.0, multiplier=2.0, jitter=0.0, max_delay=100)
    assert [compute_backoff(policy, n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]


def test_backoff_is_capped_by_max_delay():
    policy = RetryPolicy(base_delay=1.0, jitter=0.0, max_delay=5.0)
    assert compute_backoff(policy, 10) == 5.0


def test_jitter_never_exceeds_raw_delay():
    policy = RetryPolicy(base_delay=2.0, jitter=0.5)
    assert compute_backoff(policy, 1, rng=lambda: 0.0) == 2.0
    assert compute_backoff(policy, 1, rng=lambda: 1.0) == 1.0


def test_post_is_not_retried_by_default():
    policy = RetryPolicy()
    err = TransportError("connection reset")
    assert not should_retry(policy, "POST", err, attempt=1)
    assert should_retry(policy, "GET", err, attempt=1)


def test_404_is_not_retryable():
    assert not should_retry(RetryPolicy(), "GET", HTTPStatusError(404, "Not Found"), 1)


def test_schedule_retry_sleeps_and_returns_next_attempt():
    slept = []
    policy = RetryPolicy(base_delay=0.5, jitter=0.0)
    nxt = schedule_retry(policy, "GET", HTTPStatusError(503, "Unavailable"), 1, sleep=slept.append)
    assert nxt == 2
    assert slept == [0.5]


def test_schedule_retry_honours_retry_after_header():
    slept = []
    policy = RetryPolicy(base_delay=0.5, jitter=0.0)
    schedule_retry(policy, "GET", HTTPStatusError(429, "Too Many"), 1, retry_after="3", sleep=slept.append)
    assert slept == [3.0]


def test_schedule_retry_gives_up_after_max_attempts():
    policy = RetryPolicy(max_attempts=2, jitter=0.0)
    with pytest.raises(RetryExhaustedError) as info:
        schedule_retry(policy, "GET", TransportError("boom"), 2, sleep=lambda _: None)
    assert info.value.attempts == 2


def test_parse_retry_after_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
