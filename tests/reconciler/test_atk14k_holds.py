"""atk14k: what held (passing checks, kept so a regression shows).

- The repo cannot dodge the takeover check from its manifests: an owner label naming another source is
  overwritten by ``labelled``; a ``handoff.dev/adopted: "true"`` annotation on an operator's object does not
  let a source without ``adopt`` take it over (the check reads the live object); an operator's
  HorizontalPodAutoscaler named at another ``apiVersion`` (``autoscaling/v1`` live, ``v2`` in the repo), and
  an operator's ClusterRole named with a stray ``metadata.namespace``, are refused too (``key_of`` and
  ``labelled``: one identity whatever the version or stray namespace).
- ``rbacreach``: a tenant RoleBinding of the built-in ``view`` in the very namespace of the Source's git
  credentials is admitted (no false positive); a binding whose role the guard's own calls cannot read (403)
  is refused, not admitted; a RoleBinding whose ``roleRef`` says ``Role`` but names only a ClusterRole's
  name is judged as the (missing) Role: refused; ``*`` verbs on a ``*`` resource reading Secrets cluster-wide
  is refused.
- The grant's ``adopt: true`` does not extend to admission objects (existing test kept here as a variant:
  a ValidatingAdmissionPolicyBinding)."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.client import KubeError
from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import OWNER_LABEL, labelled, owner_value
from handoff.reconciler.rbacreach import Guarded, reaching
from handoff.reconciler.status import SUCCEEDED

from .cluster import new_cluster

RBAC = "rbac.authorization.k8s.io/v1"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"
GUARDED = Guarded.of({("team-a", "git-creds")}, "handoff-system")


def test_a_manifests_owner_label_is_replaced_by_the_sources() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "x", "labels": {OWNER_LABEL: "someone-else"}}}
    assert labelled(obj, "team-a", "team-a")["metadata"]["labels"][OWNER_LABEL] == owner_value("team-a")


def _operator_objects(c: Any, case: str) -> tuple[str, dict[str, Any]]:
    ns = c.target_ns
    if case == "adopted-annotation":
        c.client.apply({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "team-quota", "namespace": ns},
                        "spec": {"hard": {"pods": "1"}}}, manager="operator")
        return ("apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: team-quota\n"
                "  annotations: {handoff.dev/adopted: \"true\"}\nspec: {hard: {pods: \"1000\"}}\n",
                {"kind": "ResourceQuota", "check": lambda: (c.get("v1", "ResourceQuota", "team-quota") or {})
                 ["spec"]["hard"]["pods"] == "1"})
    if case == "api-version":
        c.client.apply({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
                        "metadata": {"name": "web", "namespace": ns},
                        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                                 "minReplicas": 2, "maxReplicas": 3}}, manager="operator")
        return ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\n"
                "spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
                "  minReplicas: 1\n  maxReplicas: 100\n",
                {"kind": "HorizontalPodAutoscaler", "check": lambda: (c.get(
                    "autoscaling/v2", "HorizontalPodAutoscaler", "web") or {})["spec"]["maxReplicas"] == 3})
    if case == "stray-namespace":
        name = f"op-{ns}"
        c.client.apply({"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": name},
                        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]},
                       manager="operator")
        c.extra["cleanup"] = name
        return (f"apiVersion: {RBAC}\nkind: ClusterRole\nmetadata: {{name: {name}, namespace: {ns}}}\n"
                "rules: [{apiGroups: [\"\"], resources: [configmaps], verbs: [get, list]}]\n",
                {"kind": "ClusterRole", "check": lambda: (c.client.get(RBAC, "ClusterRole", name) or {})
                 ["rules"][0]["verbs"] == ["get"]})
    raise AssertionError(case)


@pytest.mark.tools
@pytest.mark.slow
@pytest.mark.parametrize("case", ["adopted-annotation", "api-version", "stray-namespace"])
def test_the_repo_cannot_dodge_the_takeover_check(case: str, apiserver: Any, git_server: Any,
                                                 tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    manifest, want = _operator_objects(c, case)
    grant = Authority(namespaces=(c.target_ns,), cluster_kinds=("ClusterRole",))
    rec = Reconciler(c.settings(renderer="plain", authority=grant), c.client, c.workdir)
    c.repo.commit({"app/x.yaml": manifest, "app/cm.yaml": CM.format(rev=2)}, case)
    try:
        result = rec.reconcile(rec.settings.sources[0])
        assert result.result != SUCCEEDED and "is not this source's" in result.message, result.message
        assert want["check"](), f"the operator's {want['kind']} was changed"
    finally:
        if "cleanup" in c.extra:
            with contextlib.suppress(Exception):
                c.client.delete(RBAC, "ClusterRole", c.extra["cleanup"])


@pytest.mark.tools
@pytest.mark.slow
def test_a_tenant_view_binding_beside_its_git_credentials_is_admitted(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    ns = c.target_ns
    c.client.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "git-creds", "namespace": ns},
                    "stringData": {"password": "s3cret"}}, manager="operator")
    rec = Reconciler(c.settings(renderer="plain", secrets=(f"{ns}/git-creds",)), c.client, c.workdir)
    c.repo.commit({"app/rb.yaml": f"""apiVersion: {RBAC}
kind: RoleBinding
metadata: {{name: team-view}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}}
subjects: [{{kind: Group, name: team-a-devs, apiGroup: rbac.authorization.k8s.io}}]
"""}, "let the team view")
    result = rec.reconcile(rec.settings.sources[0])
    assert result.result == SUCCEEDED, result.message


class _Forbidden:
    def get(self, *_: Any, **__: Any) -> None:
        raise KubeError("forbidden", status=403)

    def list(self, *_: Any, **__: Any) -> list[Any]:
        raise KubeError("forbidden", status=403)


def _binding(kind: str, role_kind: str, name: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "b"} | ({"namespace": "team-a"} if kind == "RoleBinding" else {})
    return {"apiVersion": RBAC, "kind": kind, "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "team-a"}]}


def test_a_binding_whose_role_the_guard_cannot_read_is_refused() -> None:
    found = reaching([_binding("RoleBinding", "ClusterRole", "admin")], GUARDED, _Forbidden())  # type: ignore[arg-type]
    assert found and "cannot be read" in found[0][1], found


def test_a_role_ref_of_kind_role_is_judged_as_that_role_not_a_clusterrole_of_the_name() -> None:
    class _Only:
        def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> Any:
            if kind == "ClusterRole" and name == "harmless":
                return {"rules": []}
            return None

        def list(self, *_: Any, **__: Any) -> list[Any]:
            return []

    found = reaching([_binding("RoleBinding", "Role", "harmless")], GUARDED, _Only())  # type: ignore[arg-type]
    assert found and "cannot be read" in found[0][1], found


def test_star_on_star_is_refused_cluster_wide() -> None:
    role = {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": f"s-{uuid.uuid4().hex[:4]}"},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}
    binding = _binding("ClusterRoleBinding", "ClusterRole", role["metadata"]["name"])

    class _Empty:
        def get(self, *_: Any, **__: Any) -> None:
            return None

        def list(self, *_: Any, **__: Any) -> list[Any]:
            return []

    found = reaching([role, binding], GUARDED, _Empty())  # type: ignore[arg-type]
    assert any(r.kind == "ClusterRoleBinding" for r, _ in found), found
