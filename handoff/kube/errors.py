"""The Kubernetes client's errors: what the API server answered, and credentials that could not be had."""

from __future__ import annotations

from handoff.errors import ReconcileError

# 5xx reasons (the Status object's ``reason``) saying the server is busy or slow, not the request bad
_RETRYABLE_REASONS = frozenset({"ServerTimeout", "Timeout", "ServiceUnavailable", "TooManyRequests"})
# a 5xx whose message says no retry can cure it: etcd's request size limit, the server's body limit
_PERMANENT_MESSAGES = ("request is too large", "too large", "entity too large", "exceeds the maximum")


class KubeError(ReconcileError):
    """The API server answered with an error status."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class KubeUnavailable(KubeError):
    """The API server cannot be reached or cannot serve now (connection refused, 429, 503, 504, a 5xx
    timeout): retry later."""


def unavailable(status: int, reason: str = "", message: str = "") -> bool:
    """Whether an error status means "retry later" (the server is unreachable, overloaded or timed out)
    rather than "this request is refused" (a rejection: the revision is rolled back).

    429, 502, 503 and 504 are unavailability, and so is a 500 with a retryable reason or an unexplained
    one (an etcd leader change, a webhook that timed out). A 5xx whose reason or message names a limit
    the request exceeds (etcd's ``request is too large``) or a 501 is permanent: a rejection. Every 4xx
    but 429 is a rejection."""
    if status == 429:
        return True
    if status < 500 or status == 501:
        return False
    if reason in _RETRYABLE_REASONS:
        return True
    text = message.lower()
    return not any(m in text for m in _PERMANENT_MESSAGES)


def error_for(status: int, reason: str, message: str, *, text: str) -> KubeError:
    """The error to raise for an error status (``text``, the line it reads): :class:`KubeUnavailable`
    when :func:`unavailable`."""
    cls = KubeUnavailable if unavailable(status, reason, message) else KubeError
    return cls(text, status=status, reason=reason)


class CredentialError(KubeUnavailable):
    """A credential could not be obtained now (an exec plugin failed, a token file is unreadable).

    It is "retry later" for the reconciler (a cloud login may fail for a minute) and one line naming the
    kubeconfig file and key for the CLI."""

    def __init__(self, message: str, *, file: str, key: str) -> None:
        super().__init__(message, reason="CredentialUnavailable")
        self.file = file
        self.key = key
