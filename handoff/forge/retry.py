"""The forges' retry mapping lives in core (``handoff.httpstatus``), shared with ``commitstatus/``."""

from handoff.httpstatus import RetryableForgeError, error_for, is_rate_limited

__all__ = ["RetryableForgeError", "error_for", "is_rate_limited"]
