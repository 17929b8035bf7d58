"""atk14j: the admission-object takeover fix (``loop._refuse_admission_takeover``) covers admission kinds
only; the same takeover — a forced server-side apply of an object whose name an existing object has, then
its prune once the repo drops it — works on every other kind the grant admits.

``test_a_source_does_not_take_over_an_operators_object`` (parametrized), each against a real kube-apiserver
through ``Reconciler.reconcile``:

- ``resourcequota``: the operator's ResourceQuota in the tenant's own namespace (the limit the operator puts
  on the tenant; quotas are cumulative, so a second quota of the repo's can only tighten — taking over the
  operator's is the only way to loosen it). Default grant (no ``authority:``). Observed: SUCCEEDED, the live
  quota's ``spec.hard`` is the repo's (pods 1 -> 1000), and dropping it from the repo deletes the operator's
  quota: the tenant is unlimited.
- ``rolebinding``: the operator's RoleBinding in the tenant's namespace (its ``admin`` to the team's group)
  re-pointed at the repo's ServiceAccount, then deleted. Default grant.
- ``clusterrolebinding``: the operator's ClusterRoleBinding (``view`` to another team's group), granted kind
  ``ClusterRoleBinding``: its subjects replaced by the repo's, the other team loses access cluster-wide, and
  prune deletes it.
- ``crd``: the operator's CustomResourceDefinition (grant ``CustomResourceDefinition``): its schema replaced
  by the repo's (a field the operator's resources rely on made forbidden: ``x-kubernetes-preserve-unknown-
  fields`` dropped, ``additionalProperties: false``); CRDs are not pruned, but the takeover itself holds.

Responsible: ``handoff/reconciler/loop.py`` (``_refuse_admission_takeover`` is limited to ``is_admission``;
``_refuse_conflicts`` only knows objects another *source* owns; ``apply.py`` forces the apply) and
``prune.py`` (an adopted object, in the inventory since, is deleted). What should hold: "each source gets
only its operator-set grant" — a grant of a kind is a grant to create and manage objects of it, not to take
over the operator's (or a controller's) pre-existing ones; an object the source did not create (no owner
label of it) is refused by name, as admission objects now are, or, when adoption is wanted, adopted only on
the operator's say-so and never pruned."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.status import SUCCEEDED

from .cluster import new_cluster

RBAC = "rbac.authorization.k8s.io/v1"
CRD = "apiextensions.k8s.io/v1"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"


def _crd(group: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": CRD, "kind": "CustomResourceDefinition", "metadata": {"name": f"widgets.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": schema}}]}}


OPEN = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
CLOSED = {"type": "object", "properties": {"spec": {"type": "object", "properties": {"x": {"type": "string"}}}}}


def _case(case: str, ns: str, uid: str) -> tuple[dict[str, Any], dict[str, Any], Authority | None, str]:
    """(the operator's object, the repo's object of the same name, the grant, the field to compare)."""
    if case == "resourcequota":
        op = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "team-quota", "namespace": ns},
              "spec": {"hard": {"pods": "1"}}}
        repo = {**op, "spec": {"hard": {"pods": "1000"}}}
        return op, repo, None, "spec"
    if case == "rolebinding":
        op = {"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": "team-admin", "namespace": ns},
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
              "subjects": [{"kind": "Group", "name": "team-a-humans", "apiGroup": "rbac.authorization.k8s.io"}]}
        repo = {**op, "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": ns}]}
        return op, repo, None, "subjects"
    if case == "clusterrolebinding":
        op = {"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": f"team-b-view-{uid}"},
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
              "subjects": [{"kind": "Group", "name": "team-b-humans", "apiGroup": "rbac.authorization.k8s.io"}]}
        repo = {**op, "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": ns}]}
        return op, repo, Authority(namespaces=(ns,), cluster_kinds=("ClusterRoleBinding",)), "subjects"
    if case == "crd":
        group = f"op{uid}.example.com"
        return _crd(group, OPEN), _crd(group, CLOSED), \
            Authority(namespaces=(ns,), cluster_kinds=("CustomResourceDefinition",)), "spec"
    raise AssertionError(case)


def _yaml(obj: dict[str, Any]) -> str:
    return yaml.safe_dump(obj, sort_keys=False)


def _get(c: Any, obj: dict[str, Any]) -> dict[str, Any] | None:
    meta = obj["metadata"]
    return c.client.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace", ""))


@pytest.mark.tools
@pytest.mark.slow
@pytest.mark.parametrize("case", ["resourcequota", "rolebinding", "clusterrolebinding", "crd"])
def test_a_source_does_not_take_over_an_operators_object(
        case: str, apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    ns, uid = c.target_ns, uuid.uuid4().hex[:6]
    op, repo, grant, field = _case(case, ns, uid)
    c.client.apply(op, manager="operator")
    before = (_get(c, op) or {}).get(field)
    rec = Reconciler(c.settings(renderer="plain", authority=grant), c.client, c.workdir)
    try:
        assert rec.reconcile(rec.settings.sources[0]).ok
        c.repo.commit({"app/taken.yaml": _yaml(repo), "app/cm.yaml": CM.format(rev=2)},
                      f"a {op['kind']} named as the operator's")
        first = rec.reconcile(rec.settings.sources[0])
        after = (_get(c, op) or {}).get(field)
        c.repo.commit({"app/taken.yaml": None, "app/cm.yaml": CM.format(rev=3)}, "drop it")
        rec.reconcile(rec.settings.sources[0])
        gone = _get(c, op) is None
        taken = first.result == SUCCEEDED and after != before
        assert not taken and not gone, (
            f"the source took over the operator's {op['kind']} {op['metadata']['name']} "
            f"({first.result}: {first.message}); its {field} went from {before} to {after}, and dropping it "
            f"from the repo {'deleted' if gone else 'kept'} the operator's object")
    finally:
        with contextlib.suppress(Exception):
            meta = op["metadata"]
            c.client.delete(op["apiVersion"], op["kind"], meta["name"], meta.get("namespace", ""))
