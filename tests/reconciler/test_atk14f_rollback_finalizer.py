"""atk14f: a revision creates an object carrying a finalizer of its own (``metadata.finalizers`` in the repo:
no controller will ever remove it) and is then rejected midway (an operator's ValidatingAdmissionPolicy that
judges real writes only, so preflight passes). The roll-back deletes that object by uid and calls it done,
but the delete only marks it Terminating: the rejected revision's object stays live, unreported and listed
by no inventory (so never pruned) — half-applied ("atomic revisions", issue 14). Real kube-apiserver + etcd
and git server."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.errors import KubeError
from handoff.reconciler import inventory
from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler
from handoff.report.model import ObjectRef

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

ADM = "admissionregistration.k8s.io/v1"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{rev: \"{rev}\"}}\n"
HELD = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, finalizers: [example.com/hold]}\n"
        "data: {rev: \"2\"}\n")


def test_a_created_object_with_its_own_finalizer_does_not_outlive_the_roll_back(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/a.yaml": CM.format(name="a", rev=1),
                                                      "app/b.yaml": CM.format(name="b", rev=1)})
    operators = f"op-{c.target_ns}"
    rec = Reconciler(c.settings(renderer="plain", authority=Authority(namespaces=(c.target_ns,))),
                     c.client, c.workdir)
    source = rec.settings.sources[0]
    try:
        first = rec.reconcile(source)
        assert first.ok, first.message
        c.client.create({"apiVersion": ADM, "kind": "ValidatingAdmissionPolicy", "metadata": {"name": operators},
                         "spec": {"failurePolicy": "Fail", "matchConstraints": {"resourceRules": [{
                             "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                             "resources": ["configmaps"]}]},
                             "validations": [{"expression": "request.dryRun == true || object.metadata.name != 'b'"
                                              " || object.data.rev != '2'", "message": "b at rev 2 is refused"}]}})
        c.client.create({"apiVersion": ADM, "kind": "ValidatingAdmissionPolicyBinding",
                         "metadata": {"name": operators},
                         "spec": {"policyName": operators, "validationActions": ["Deny"], "matchResources": {
                             "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": c.target_ns}}}}})
        while True:  # until the API server enforces it on real writes (asserts no timing)
            try:
                c.client.apply({"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": "b", "namespace": c.target_ns}, "data": {"rev": "2"}},
                               manager="probe")
            except KubeError:
                break
            c.client.apply({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "b", "namespace": c.target_ns}, "data": {"rev": "1"}},
                           manager="probe")
        # file order puts held (created) before b (rejected)
        c.repo.commit({"app/a.yaml": CM.format(name="a", rev=2), "app/aa-held.yaml": HELD,
                       "app/b.yaml": CM.format(name="b", rev=2)}, "rev 2: a held ConfigMap, b rejected")
        failed = rec.reconcile(source)
        assert not failed.ok and "b at rev 2 is refused" in failed.message, failed.message
        held = c.get("v1", "ConfigMap", "held")
        listed = inventory.read(c.client, c.control_ns, source.name)
        listed_names = {r.name for r in listed.objects} if listed else set()
        assert held is None or ("roll-back incomplete" in failed.message and "held" in listed_names), (
            "a ConfigMap the rejected revision created, with a finalizer the repo set, outlived the roll-back "
            f"(deletionTimestamp {held.get('metadata', {}).get('deletionTimestamp') if held else None}, data "
            f"{held.get('data') if held else None}), not reported and not listed by the inventory "
            f"{sorted(listed_names)}: {failed.message[:300]}")
    finally:
        with contextlib.suppress(KubeError):
            c.client.patch(ObjectRef("v1", "ConfigMap", "held", c.target_ns),
                           [{"op": "remove", "path": "/metadata/finalizers"}])
        for kind in ("ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"):
            with contextlib.suppress(KubeError):
                c.client.delete(ADM, kind, operators)
