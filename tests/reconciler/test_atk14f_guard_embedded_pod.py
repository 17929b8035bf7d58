"""atk14f: the identity guard refuses a pod that reads one of the reconciler's own Secrets (a tenant
Source's git credentials in its namespace) in a Pod, a workload's or CronJob's template, a PodTemplate
(guard.py ``_pod_specs``), but the floor reads pod specs of custom resources at more places
(:data:`handoff.policy.paths.EMBEDDED_POD_SPEC_PATHS`): at ``spec.podTemplate.spec`` a custom resource's
controller runs a pod mounting that Secret ("never more authority than the operator grants", issue 14).
Units on ``borrowing_identity`` with the real settings."""

from __future__ import annotations

from typing import Any

import pytest

from handoff.reconciler.config import Authority, Settings, Source
from handoff.reconciler.guard import borrowing_identity, configuration_secrets

NS = "handoff-system"
TENANT = Source(name="a", url="https://git.example/x.git", namespace="team-a", secrets=("team-a/git-creds",),
                authority=Authority(namespaces=("team-a",)))
SETTINGS = Settings(sources=(TENANT,), namespace=NS)
READS = {"containers": [{"name": "main", "image": "registry.example/x:1",
                         "envFrom": [{"secretRef": {"name": "git-creds"}}]}]}


def _runner(path: str, kind: str = "Runner") -> dict[str, Any]:
    node: dict[str, Any] = {"spec": READS}
    for step in reversed(path.split(".")):
        node = {step: node}
    return {"apiVersion": "example.com/v1", "kind": kind, "metadata": {"name": "r", "namespace": "team-a"},
            **node}


@pytest.mark.parametrize("path", ["spec.template", "spec.podTemplate"])
def test_a_custom_resource_pod_reading_the_sources_git_credentials_is_refused(path: str) -> None:
    found = borrowing_identity([_runner(path)], SETTINGS, configuration_secrets(SETTINGS.sources))
    assert found, (f"a custom resource whose pod template at {path}.spec reads the Source's git-credentials "
                   "Secret (team-a/git-creds) was not refused by the identity guard")


def test_a_custom_resource_named_pod_with_a_template_reading_the_credentials_is_refused() -> None:
    # example.com/v1 Pod is not a core Pod: guard.py _pod_specs reads any "Pod" at spec only
    found = borrowing_identity([_runner("spec.template", kind="Pod")], SETTINGS,
                               configuration_secrets(SETTINGS.sources))
    assert found, ("custom resource example.com/v1 Pod whose pod template at spec.template.spec reads the "
                   "Source's git-credentials Secret was not refused by the identity guard")
