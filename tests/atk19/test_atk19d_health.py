"""atk19d: the generic Ready=False reading (kstatus-style, f19d) with failure reasons in other cases.
Fails today (see /work/scratch/atk19d-report.md). health() is a pure reading of the object the apiserver
returns; these objects are spelled as a CR's status would be (metav1.Condition's reason pattern
`^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$` admits every reason used here)."""

from __future__ import annotations

import pytest

from handoff.reconciler.health import DEGRADED, PROGRESSING, health
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


def test_a_stalled_condition_of_an_older_generation_says_nothing_yet() -> None:
    """A CR that reports generations per condition (metav1.Condition.observedGeneration, no
    status.observedGeneration, as many kubebuilder operators do) failed at generation 1: Stalled=True.
    The fix is committed and applied (generation 2); until the controller reconciles it, the Stalled
    condition still carries observedGeneration 1. _generic honours a stale observedGeneration on
    Ready/Available but not on Stalled, so the *fixing* commit reads Degraded at once: `handoff wait` on
    it exits 1 and the promote gate refuses it, before the controller even looked at it."""
    ref = ObjectRef("example.io/v1", "Release", "web", "apps")
    obj = {"apiVersion": "example.io/v1", "kind": "Release", "metadata": {"name": "web", "generation": 2},
           "status": {"conditions": [
               {"type": "Stalled", "status": "True", "observedGeneration": 1, "reason": "InstallFailed",
                "message": "generation 1: image not found"},
               {"type": "Ready", "status": "False", "observedGeneration": 1, "reason": "InstallFailed",
                "message": "generation 1: image not found"}]}}
    found = health(ref, obj)
    assert found.status == PROGRESSING, (
        f"conditions of generation 1 say nothing about generation 2 (as for Ready), yet it reads {found}")


@pytest.mark.parametrize("reason", ["ErrImageNeverPull", "ImageInspectError"])
def test_a_container_that_can_never_pull_its_image_is_degraded(reason: str) -> None:
    """The kubelet's image errors (pkg/kubelet/images/types.go) besides ErrImagePull/ImagePullBackOff:
    ErrImageNeverPull (imagePullPolicy: Never and the image is not on the node) and ImageInspectError do
    not resolve by themselves, exactly like InvalidImageName, which _CONTAINER_FAILURES lists. Left out,
    the Pod reads Progressing forever: `applying` until `handoff wait` times out (124)."""
    ref = ObjectRef("v1", "Pod", "web", "apps")
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
           "status": {"phase": "Pending", "containerStatuses": [
               {"name": "app", "ready": False, "state": {"waiting": {
                   "reason": reason, "message": 'Container image "web:1" is not present with pull policy '
                                                'of Never'}}}]}}
    found = health(ref, obj)
    assert found.status == DEGRADED, f"a container waiting with {reason} will not start by itself: {found}"
