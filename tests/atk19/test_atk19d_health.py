"""atk19d: the generic Ready=False reading (kstatus-style, f19d) with failure reasons in other cases.
Fails today (see /work/scratch/atk19d-report.md). health() is a pure reading of the object the apiserver
returns; these objects are spelled as a CR's status would be (metav1.Condition's reason pattern
`^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$` admits every reason used here)."""

from __future__ import annotations

import pytest

from handoff.reconciler.health import DEGRADED, health
from handoff.report.model import ObjectRef


def _release(reason: str, message: str) -> dict[str, object]:
    return {"apiVersion": "example.io/v1", "kind": "Release", "metadata": {"name": "web", "generation": 2},
            "status": {"observedGeneration": 2, "conditions": [
                {"type": "Ready", "status": "False", "observedGeneration": 2, "reason": reason,
                 "message": message}]}}


@pytest.mark.parametrize("reason", ["failed", "FAILED", "error", "upgrade_failed", "CRASHLOOP",
                                    "ImagePullBACKOFF"])
def test_a_failure_reason_in_another_case_is_degraded(reason: str) -> None:
    """Ready=False reason `Failed` is Degraded; the same word lower-case (`failed`, as several operators
    write it) or upper-case reads Progressing because _FAILURE_REASON is case-sensitive, so the commit
    stays `applying` and `handoff wait` times out (124) instead of exiting 1 on a failed release."""
    ref = ObjectRef("example.io/v1", "Release", "web", "apps")
    found = health(ref, _release(reason, "helm upgrade failed: timed out waiting for the condition"))
    assert found.status == DEGRADED, f"Ready=False reason {reason!r} names a failure, yet reads {found}"
