"""pyfetch: a small, dependency-free HTTP client with retries, caching and rate limiting."""

from .client import Client, Response
from .errors import PyFetchError, HTTPStatusError, RetryExhaustedError
from .retry import RetryPolicy

__all__ = [
    "Client",
    "Response",
    "RetryPolicy",
    "PyFetchError",
    "HTTPStatusError",
    "RetryExhaustedError",
]

__version__ = "0.4.1"
