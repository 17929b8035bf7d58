"""atk14g: a kill -9 at a new point, right after the pass wrote a CRD the revision adds and before its
custom resources (they could only be dry-run once the CRD existed), then a restart. The cluster must
converge to exactly one revision's objects: the killed revision's when it is still the one in Git, the
previous one's when the commit was reverted meanwhile (with CRD prune enabled, the CRD the killed pass
created goes too) (issue 14: "a kill -9 between preflight and the last apply, then a restart"). Real
kube-apiserver + etcd and git server, `handoff reconcile`."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.errors import KubeError
from handoff.reconciler.inventory import read as read_inventory
from tests.security.test_reconciler_faults import wait_for

from .cluster import Cluster, new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

_CRD_API = "apiextensions.k8s.io/v1"
_SCHEMA = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{rev: \"{rev}\"}}\n"


def _crd(group: str) -> str:
    return json.dumps({
        "apiVersion": _CRD_API, "kind": "CustomResourceDefinition", "metadata": {"name": f"databases.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": "databases", "singular": "database", "kind": "Database"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": _SCHEMA}]}})


def _config(c: Cluster, tmp_path: Path) -> Path:
    path = tmp_path / "reconciler.yaml"
    path.write_text(f"namespace: {c.control_ns}\n"
                    "leaderElection: false\n"
                    "prune: {crds: true}\n"
                    "sources:\n"
                    f"  - name: src-{c.target_ns}\n"
                    f"    url: {c.url}\n"
                    "    branch: main\n"
                    "    path: app\n"
                    "    renderer: plain\n"
                    f"    namespace: {c.target_ns}\n"
                    "    interval: 1s\n"
                    f"    authority: {{namespaces: [{c.target_ns}], clusterKinds: [CustomResourceDefinition]}}\n"
                    f"    credentials: {{tokenFile: {c.token_file}, username: {c.username}}}\n")
    return path


def _argv(c: Cluster, apiserver: Any, config: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "handoff", "reconcile", "--config", str(config), "--kubeconfig",
            str(apiserver.kubeconfig), "--workdir", str(c.workdir), "--allow-private-hosts", *extra]


@pytest.mark.parametrize("reverted", [False, True], ids=["same-revision", "reverted-meanwhile"])
def test_a_kill_after_the_crd_and_before_its_custom_resources_converges(
        apiserver: Any, git_server: Any, tmp_path: Path, reverted: bool) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(name="app", rev=1)})
    group = f"{c.target_ns}.atk14g.example.com"
    config = _config(c, tmp_path)
    first = subprocess.run(_argv(c, apiserver, config, "--once"), capture_output=True, text=True, timeout=300,
                           check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    rev1 = c.status()["lastAppliedRevision"]
    c.repo.commit({"app/crd.yaml": _crd(group), "app/cm.yaml": CM.format(name="app", rev=2),
                   "app/orders.yaml": f"apiVersion: {group}/v1\nkind: Database\nmetadata: {{name: orders}}\n"
                                      "spec: {size: 1}\n"}, "rev 2: a CRD and its first custom resource")
    env = {**os.environ, "HANDOFF_RECONCILER_PAUSE_AFTER_APPLIES": "1"}
    log = tmp_path / "killed.log"
    proc = subprocess.Popen(_argv(c, apiserver, config, "--metrics-addr", "off"), stdout=subprocess.DEVNULL,
                            stderr=log.open("wb"), env=env)
    try:
        try:
            wait_for(lambda: "paused for fault injection" in log.read_text())
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        crd = c.client.get(_CRD_API, "CustomResourceDefinition", f"databases.{group}")
        assert crd is not None, "precondition: the kill landed after the CRD was written"
        assert c.get(f"{group}/v1", "Database", "orders") is None, "precondition: before its custom resource"
        if reverted:
            c.repo.commit({"app/crd.yaml": None, "app/orders.yaml": None, "app/cm.yaml": CM.format(name="app", rev=3)},
                          "rev 3: revert rev 2")
        again = subprocess.run(_argv(c, apiserver, config, "--once"), capture_output=True, text=True, timeout=300,
                               check=False)
        status = c.status()
        inv = read_inventory(c.client, c.control_ns, f"src-{c.target_ns}")
        listed = sorted(f"{r.kind}/{r.name}" for r in (inv.objects if inv else ()))
        app = (c.get("v1", "ConfigMap", "app") or {}).get("data", {}).get("rev")
        crd_now = c.client.get(_CRD_API, "CustomResourceDefinition", f"databases.{group}")
        if crd_now is not None and crd_now["metadata"].get("deletionTimestamp"):  # pruned: the API server
            with contextlib.suppress(AssertionError):  # removes its custom resources first, then the CRD
                wait_for(lambda: c.client.get(_CRD_API, "CustomResourceDefinition", f"databases.{group}") is None,
                         timeout=60)
            crd_now = c.client.get(_CRD_API, "CustomResourceDefinition", f"databases.{group}")
        try:
            orders = c.get(f"{group}/v1", "Database", "orders")
        except KubeError:
            orders = None
        state = (f"exit {again.returncode}, status {status.get('result')}: {status.get('message', '')[:300]}; "
                 f"app rev {app}, CRD live {crd_now is not None}, orders live {orders is not None}, "
                 f"inventory {listed} pending {inv.pending if inv else None!r}; CRD metadata "
                 f"{(crd_now or {}).get('metadata', {}).get('deletionTimestamp')} "
                 f"{(crd_now or {}).get('metadata', {}).get('finalizers')} "
                 f"{(crd_now or {}).get('metadata', {}).get('labels')}; {again.stderr[-600:]}")
        if reverted:
            assert status.get("lastAppliedRevision") not in ("", rev1) and app == "3" and crd_now is None \
                and listed == ["ConfigMap/app"] and not (inv and inv.pending), (
                    "after a kill between the CRD and its custom resources and a revert, the cluster is not "
                    f"exactly the reverted revision: {state}")
        else:
            assert again.returncode == 0 and app == "2" and crd_now is not None and orders is not None \
                and not (inv and inv.pending), (
                    "after a kill between the CRD and its custom resources, the restart did not complete that "
                    f"revision: {state}")
    finally:
        with contextlib.suppress(KubeError):
            c.client.delete(_CRD_API, "CustomResourceDefinition", f"databases.{group}")
