"""The propose tests use the shared harness fixtures (``git_server``, ``registry``); this only makes sure a
secret registered with the redaction layer by one test cannot mask (and so hide a leak in) the next."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handoff.redact import forget_all


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    yield
    forget_all()
