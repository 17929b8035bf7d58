"""atk14c: the reconciler's own CustomResourceDefinition (``sources.handoff.dev``, what
``handoff reconciler manifests`` installs) is its configuration: every Source object lives in it. issue 14:
"No source can apply, patch or prune the reconciler's ... config". A platform source the operator lets
install CRDs (``clusterKinds: [CustomResourceDefinition]``, the usual grant for a repo of operators) must
still not adopt, change or (with ``prune.allowCRDs``) delete it: deleting it deletes every Source object of
every tenant, and its finalizers cannot run. Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority
from handoff.reconciler.objects import OWNER_LABEL
from handoff.reconciler.sourcecrd import CRD_NAME, crd
from handoff.reconciler.status import REFUSED
from handoff.report.model import ObjectRef

from .cluster import new_cluster
from .test_source_crd_live import install_crd

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {rev: \"1\"}\n"
CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")


def test_a_source_granted_crds_cannot_take_over_the_reconcilers_own_crd(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM})
    install_crd(c)
    before = c.client.get(*CRD, CRD_NAME)
    assert before is not None
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=(c.target_ns,),
                                                             cluster_kinds=("CustomResourceDefinition",)))
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    theirs = crd()
    theirs["metadata"].setdefault("annotations", {})["example.com/owned-by"] = "the platform repo"
    c.repo.commit({"app/sources-crd.yaml": json.dumps(theirs)}, "vendor handoff's CRD into the platform repo")
    try:
        result = rec.reconcile(source)
        after = c.client.get(*CRD, CRD_NAME) or {}
        labels = after.get("metadata", {}).get("labels") or {}
        assert OWNER_LABEL not in labels, \
            f"a source adopted the reconciler's own CRD ({result.result}: {result.message})"
        assert result.result == REFUSED, result.message
    finally:
        with contextlib.suppress(Exception):  # cleanup only: the shared CRD back as the harness installed it
            c.client.patch(ObjectRef(*CRD, CRD_NAME),
                           {"metadata": {"labels": {OWNER_LABEL: None},
                                         "annotations": {"example.com/owned-by": None}}},
                           content_type="application/merge-patch+json")
