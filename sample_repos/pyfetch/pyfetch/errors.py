"""Exception hierarchy used throughout pyfetch.

Every exception raised by the library derives from :class:`PyFetchError`, so
callers can catch a single base class.
"""


class PyFetchError(Exception):
    """Base class for all pyfetch errors."""


class ConfigError(PyFetchError):
    """Raised when settings cannot be loaded or are invalid."""


class TransportError(PyFetchError):
    """A network-level failure: DNS, refused connection, reset socket."""

    def __init__(self, message, *, url=None, cause=None):
        super().__init__(message)
        self.url = url
        self.cause = cause


class RequestTimeoutError(TransportError):
    """The server did not answer within the configured timeout."""


class HTTPStatusError(PyFetchError):
    """Raised by ``Response.raise_for_status`` for 4xx and 5xx responses."""

    def __init__(self, status, reason, *, url=None, body=b"", retry_after=None):
        super().__init__(f"{status} {reason} for {url}")
        self.status = status
        self.reason = reason
        self.url = url
        self.body = body
        self.retry_after = retry_after

    @property
    def is_client_error(self):
        return 400 <= self.status < 500

    @property
    def is_server_error(self):
        return 500 <= self.status < 600


class RetryExhaustedError(PyFetchError):
    """All retry attempts failed; ``last_error`` holds the final failure."""

    def __init__(self, attempts, last_error):
        super().__init__(f"gave up after {attempts} attempts: {last_error}")
        self.attempts = attempts
        self.last_error = last_error


class RateLimitedError(PyFetchError):
    """The local token bucket was empty and the caller asked not to wait."""


class AuthError(PyFetchError):
    """Credentials were rejected or a token could not be refreshed."""
