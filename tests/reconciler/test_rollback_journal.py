"""The pending inventory is the pass's journal (handoff.reconciler.inventory: ``base`` and ``creating``):
written before the first apply, read after a restart, cleared by a pass that finishes. A pass killed
mid-apply whose revision is then not applied at all (the next commit does not render) has its creations
deleted and the previous inventory listed again (real kube-apiserver + etcd, git server, the CLI)."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler import inventory
from handoff.report.model import ObjectRef
from tests.security.test_reconciler_faults import argv, run_once, wait_for

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{rev: \"{rev}\"}}\n"


def test_the_journal_is_kept_while_pending_and_cleared_after(apiserver: Any, git_server: Any,
                                                             tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(name="app", rev=1)})
    old, new = ObjectRef("v1", "ConfigMap", "app", c.target_ns), ObjectRef("v1", "ConfigMap", "new", c.target_ns)
    inventory.write(c.client, c.control_ns, "src", inventory.Inventory("r1", (old, new), pending="r2",
                                                                       base=(old,), creating=(new,)))
    read = inventory.read(c.client, c.control_ns, "src")
    assert read is not None and read.pending == "r2" and read.base == (old,) and read.creating == (new,)
    assert read.listed_before() == (old,)
    inventory.write(c.client, c.control_ns, "src", inventory.Inventory("r2", (old, new)))
    done = inventory.read(c.client, c.control_ns, "src")
    assert done is not None and not done.pending and done.base is None and done.creating == ()
    assert done.listed_before() == (old, new)
    cm = c.client.get("v1", "ConfigMap", inventory.inventory_name("src"), c.control_ns)
    assert cm is not None and set(cm["data"]) == {"revision", "objects"}


def test_an_older_pending_inventory_without_a_journal_reads_as_before(apiserver: Any, git_server: Any,
                                                                      tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(name="app", rev=1)})
    c.client.apply({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": inventory.inventory_name("src"), "namespace": c.control_ns},
                    "data": {"revision": "r1", "pending": "r2",
                             "objects": f"v1 ConfigMap {c.target_ns} app\nv1 ConfigMap {c.target_ns} new"}})
    read = inventory.read(c.client, c.control_ns, "src")
    assert read is not None and read.base is None and read.creating == ()
    assert {r.name for r in read.listed_before()} == {"app", "new"}


def test_a_killed_pass_whose_revision_is_replaced_by_one_that_does_not_render_is_undone(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(name="app", rev=1)})
    first = run_once(c, apiserver)
    assert first.returncode == 0, first.stderr
    rev1 = c.status()["lastAppliedRevision"]
    c.repo.commit({"app/a-new.yaml": CM.format(name="a-new", rev=2), "app/cm.yaml": CM.format(name="app", rev=2)},
                  "revision 2: a new ConfigMap")
    env = {**os.environ, "HANDOFF_RECONCILER_PAUSE_AFTER_APPLIES": "1"}
    log = tmp_path / "killed.log"
    proc = subprocess.Popen(argv(c, apiserver, "--no-leader-elect", "--metrics-addr", "off", "--interval", "1s"),
                            stdout=subprocess.DEVNULL, stderr=log.open("wb"), env=env)
    try:
        wait_for(lambda: "paused for fault injection" in log.read_text())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert c.get("v1", "ConfigMap", "a-new") is not None, "the kill did not land after the first apply"
    pending = inventory.read(c.client, c.control_ns, f"src-{c.target_ns}")
    assert pending is not None and pending.pending and [r.name for r in pending.creating] == ["a-new"]

    c.repo.commit({"app/zz-broken.yaml": "kind: [unclosed\n"}, "revision 3 does not parse")
    again = run_once(c, apiserver)
    status = c.status()
    assert status["lastAppliedRevision"] == rev1 and "not applied" in status["message"], (status, again.stderr)
    assert c.get("v1", "ConfigMap", "a-new") is None, status
    app = c.get("v1", "ConfigMap", "app")
    assert app is not None and app["data"]["rev"] == "1"
    inv = inventory.read(c.client, c.control_ns, f"src-{c.target_ns}")
    assert inv is not None and inv.revision == rev1 and not inv.pending
    assert [r.name for r in inv.objects] == ["app"]
