"""The Kubernetes client's errors: what the API server answered, and credentials that could not be had."""

from __future__ import annotations

from handoff.errors import ReconcileError


class KubeError(ReconcileError):
    """The API server answered with an error status."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class KubeUnavailable(KubeError):
    """The API server cannot be reached (connection refused, timeout, 5xx): retry later."""


class CredentialError(KubeUnavailable):
    """A credential could not be obtained now (an exec plugin failed, a token file is unreadable).

    It is "retry later" for the reconciler (a cloud login may fail for a minute) and one line naming the
    kubeconfig file and key for the CLI."""

    def __init__(self, message: str, *, file: str, key: str) -> None:
        super().__init__(message, reason="CredentialUnavailable")
        self.file = file
        self.key = key
