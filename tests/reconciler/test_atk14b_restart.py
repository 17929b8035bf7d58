"""atk14b: a pass killed half-way (kill -9 after its first apply), then restarted, meets a rejection at
apply (the namespace's quota filled up meanwhile). The roll-back must remove what the killed pass created
for that revision: it does not, because an object the dead pass created exists now, so it counts as
"updated", and the previous revision has no manifest for it. The status names the previous revision as
the live one while the rejected revision's new object is live (it stays listed in the pending inventory,
so only a later good revision prunes it) (real kube-apiserver + etcd, git server, `handoff reconcile`)."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.inventory import read as read_inventory
from tests.security.test_reconciler_faults import argv, run_once, wait_for

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{rev: \"{rev}\"}}\n"


def test_a_rejection_after_a_kill_mid_apply_removes_what_the_killed_pass_created(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(name="app", rev=1)})
    first = run_once(c, apiserver)
    assert first.returncode == 0, first.stderr
    rev1 = c.status()["lastAppliedRevision"]
    c.repo.commit({"app/a-new.yaml": CM.format(name="a-new", rev=2), "app/cm.yaml": CM.format(name="app", rev=2),
                   "app/zz-extra.yaml": CM.format(name="extra", rev=2)}, "revision 2: two new ConfigMaps")
    env = {**os.environ, "HANDOFF_RECONCILER_PAUSE_AFTER_APPLIES": "1"}
    proc = subprocess.Popen(argv(c, apiserver, "--no-leader-elect", "--metrics-addr", "off", "--interval", "1s"),
                            stdout=subprocess.DEVNULL, stderr=(tmp_path / "killed.log").open("wb"), env=env)
    try:
        wait_for(lambda: "paused for fault injection" in (tmp_path / "killed.log").read_text())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert c.get("v1", "ConfigMap", "a-new") is not None, "the kill did not land after the first apply"

    # meanwhile the namespace's quota fills up: no room for one more ConfigMap (no quota controller in the
    # harness: publish its status as it would)
    c.client.apply({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "cms", "namespace": c.target_ns},
                    "spec": {"hard": {"count/configmaps": "2"}}})
    c.client.request("PATCH", f"/api/v1/namespaces/{c.target_ns}/resourcequotas/cms/status",
                     body={"status": {"hard": {"count/configmaps": "2"}, "used": {"count/configmaps": "2"}}},
                     content_type="application/merge-patch+json")

    again = run_once(c, apiserver)
    status = c.status()
    assert "extra" in status.get("message", "") and status["lastAppliedRevision"] == rev1, (status, again.stderr)
    app = c.get("v1", "ConfigMap", "app")
    assert app is not None and app["data"]["rev"] == "1", status
    inv = read_inventory(c.client, c.control_ns, f"src-{c.target_ns}")
    listed = {r.name for r in inv.objects} if inv else set()
    assert c.get("v1", "ConfigMap", "a-new") is None, \
        f"half-applied: the killed pass's new ConfigMap outlived the rejection (listed in the inventory: " \
        f"{'a-new' in listed}; inventory {sorted(listed)}, status: {status.get('message')})"
