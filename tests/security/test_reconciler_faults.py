"""The reconciler under faults, on the real kube-apiserver + etcd and the harness git server.

Covered elsewhere and not repeated here: git server stopped (tests/reconciler/test_e2e.py
``test_git_server_down_keeps_last_state_and_backs_off``), kube-apiserver restarted mid-loop (same file), an
empty render refused, and signature checks at the git layer (tests/reconciler/test_source.py). Here: kill -9
mid-apply, etcd down for 30 s, HTTP 500s and truncated packs, a mass deletion over the cap, and an untrusted
signature, each through the whole reconcile pass with its status ConfigMap, Events and metrics.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Verification
from handoff.reconciler.inventory import read as read_inventory
from handoff.reconciler.objects import OWNER_LABEL
from handoff.reconciler.status import FAILED, REFUSED, SUCCEEDED
from handoff.report.model import ObjectRef
from tests.harness.git_server import GitServer
from tests.harness.ports import free_port
from tests.harness.tools import require_tool
from tests.reconciler.cluster import Cluster, kustomize_app, new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def configmaps(names: Iterable[str], rev: str) -> str:
    return "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}\ndata:\n  rev: \"{rev}\"\n"
                   f"  payload: \"{n * 20}\"\n" for n in names)


def wait_for(check: Callable[[], bool], timeout: float = 90.0, step: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(step)


def argv(c: Cluster, apiserver: Any, *extra: str) -> list[str]:
    return [sys.executable, "-m", "handoff", "reconcile", "--kubeconfig", str(apiserver.kubeconfig),
            "--repo", c.url, "--path", "app", "--revision", "main", "--name", f"src-{c.target_ns}",
            "--target-namespace", c.target_ns, "--namespace", c.control_ns, "--token-file", str(c.token_file),
            "--git-username", c.username, "--workdir", str(c.workdir), *extra]


def run_once(c: Cluster, apiserver: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv(c, apiserver, "--once"), capture_output=True, text=True, timeout=300, check=False)


def owned(c: Cluster) -> dict[str, str]:
    """Labelled ConfigMaps in the target namespace: name -> data.rev."""
    items = c.client.list("v1", "ConfigMap", namespace=c.target_ns, label_selector=f"{OWNER_LABEL}=src-{c.target_ns}")
    return {str(i["metadata"]["name"]): str((i.get("data") or {}).get("rev")) for i in items}


def inventory_names(c: Cluster) -> tuple[str, list[str], str]:
    inv = read_inventory(c.client, c.control_ns, f"src-{c.target_ns}")
    assert inv is not None
    return inv.revision, sorted(r.name for r in inv.objects), inv.pending


def events(c: Cluster) -> list[dict[str, Any]]:
    return list(c.client.list("v1", "Event", namespace=c.control_ns))


def test_kill_9_mid_apply_then_restart_converges_to_the_exact_object_set(apiserver: Any, git_server: GitServer,
                                                                         tmp_path: Path) -> None:
    """Revision 2 (50 new ConfigMaps first, then 200 changed) is killed half-applied; revision 3 goes back to
    the original 200 before the restart. Afterwards exactly those 200 exist, at revision 3, and the inventory
    lists exactly them: nothing lost, nothing half-applied left behind (the 50 new ones are pruned)."""
    old = [f"cm-{i:03d}" for i in range(200)]
    new = [f"new-{i:03d}" for i in range(50)]
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cms.yaml": configmaps(old, "1")})
    first = run_once(c, apiserver)
    assert first.returncode == 0, first.stderr
    assert owned(c) == dict.fromkeys(old, "1")

    c.repo.commit({"app/cms.yaml": configmaps(new + old, "2")}, "revision 2")
    proc = subprocess.Popen(argv(c, apiserver, "--no-leader-elect", "--metrics-addr", "off", "--interval", "1s"),
                            stdout=subprocess.DEVNULL, stderr=(tmp_path / "killed.log").open("wb"))
    try:
        wait_for(lambda: sum(rev == "2" for rev in owned(c).values()) >= 60, step=0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    at_kill = owned(c)
    assert 60 <= sum(rev == "2" for rev in at_kill.values()) < 250, "the kill did not land mid-apply"
    assert set(new) & set(at_kill)  # some half-applied new objects exist
    _, listed, pending = inventory_names(c)
    assert pending and set(at_kill) <= set(listed)  # the dead pass had listed them before creating them

    rev3 = c.repo.commit({"app/cms.yaml": configmaps(old, "3")}, "revision 3: back to the original set")
    again = run_once(c, apiserver)
    assert again.returncode == 0, again.stderr
    assert owned(c) == dict.fromkeys(old, "3")
    assert inventory_names(c) == (rev3, sorted(old), "")
    assert c.status()["result"] == SUCCEEDED and c.status()["lastAppliedRevision"] == rev3


def metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        body = r.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith(name))


def probe(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return int(r.status)
    except OSError:
        return 0


def test_etcd_down_for_30_seconds_reconciler_survives_reports_and_converges(apiserver: Any, git_server: GitServer,
                                                                            tmp_path: Path) -> None:
    """Two reconcilers (own namespaces): one without leader election, whose passes fail and are reported during
    the outage, and one with it (the default install), which must also survive and converge afterwards."""
    require_tool("kustomize")
    clusters, procs, ports, logs = [], [], [], []
    for name, election in (("plain", ("--no-leader-elect",)), ("elected", ("--identity", "e1", "--lease-seconds",
                                                                            "6"))):
        (tmp_path / name).mkdir()
        c = new_cluster(apiserver, git_server, tmp_path / name, kustomize_app())
        port, log = free_port(), tmp_path / f"{name}.log"
        procs.append(subprocess.Popen(argv(c, apiserver, *election, "--interval", "1s", "--metrics-addr",
                                           f"127.0.0.1:{port}"), stdout=subprocess.DEVNULL, stderr=log.open("wb")))
        clusters.append(c)
        ports.append(port)
        logs.append(log)
    try:
        for c in clusters:
            wait_for(lambda c=c: c.status().get("result") == SUCCEEDED)
        errors_before = metric(ports[0], "handoff_reconcile_errors_total")
        shas = [c.repo.commit({"app/deployment.yaml": kustomize_app("registry.example/web:4.0.0")[
            "app/deployment.yaml"]}, "bump during the etcd outage") for c in clusters]
        apiserver.stop_etcd()
        try:
            down_since = time.monotonic()
            wait_for(lambda: metric(ports[0], "handoff_reconcile_errors_total") > errors_before, timeout=120)
            while time.monotonic() - down_since < 30:
                assert [p.poll() for p in procs] == [None, None], "a reconciler died while etcd was down"
                time.sleep(1)
            assert [probe(port, "/healthz") for port in ports] == [200, 200]
        finally:
            apiserver.start_etcd()
        failures = [json.loads(line) for line in logs[0].read_text().splitlines()
                    if line.startswith("{") and '"pass finished"' in line and '"Failed"' in line]
        # passes fail as "API server unavailable" (504s / connection errors), retried with backoff
        assert failures and all("retrying in" in str(f.get("detail")) for f in failures)
        assert metric(ports[0], 'handoff_reconcile_errors_total{kind="kube-unavailable"') >= len(failures)

        def converged(c: Cluster, sha: str) -> bool:
            deploy = c.get("apps/v1", "Deployment", "web") or {}
            image = (deploy.get("spec") or {}).get("template", {}).get("spec", {}).get("containers", [{}])[0]
            return image.get("image") == "registry.example/web:4.0.0" and c.status().get("lastAppliedRevision") == sha

        for c, sha in zip(clusters, shas, strict=True):
            wait_for(lambda c=c, sha=sha: converged(c, sha), timeout=240, step=1)
            wait_for(lambda c=c: c.status().get("result") == SUCCEEDED, timeout=60)
        assert [p.poll() for p in procs] == [None, None]
        assert metric(ports[1], "handoff_leader") == 1.0
        assert all(metric(port, "handoff_reconcile_last_success_timestamp_seconds") > 0 for port in ports)
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)


def test_git_500s_and_truncated_packs_keep_the_last_good_state(apiserver: Any, git_server: GitServer,
                                                               tmp_path: Path) -> None:
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, kustomize_app())
    rec = c.reconciler()
    source = rec.settings.sources[0]
    good = rec.reconcile(source)
    assert good.ok, good.message
    # a big blob in the new revision so the truncated pack is really cut mid-object
    blob = os.urandom(300_000).hex()
    bad_sha = c.repo.commit({"app/deployment.yaml": kustomize_app("registry.example/web:5.0.0")[
        "app/deployment.yaml"], "blob.txt": blob}, "bump behind a flaky server")

    git_server.fail_next(50, status=500)
    failed = rec.reconcile(source)
    assert failed.result == FAILED and failed.error_kind == "git"
    status = c.status()
    assert status["result"] == FAILED and status["lastAppliedRevision"] == good.applied_revision
    assert "keeping revision" in status["message"] and "500" in status["message"]
    git_server.fail_next(0)

    git_server.truncate_next_pack(50)
    cut = rec.reconcile(source)
    assert cut.result == FAILED and cut.error_kind == "git", cut.message
    status = c.status()
    assert status["lastAttemptedRevision"] == bad_sha and status["lastAppliedRevision"] == good.applied_revision
    assert "not fetched" in status["message"] and "keeping revision" in status["message"]
    deploy = c.get("apps/v1", "Deployment", "web")
    assert deploy is not None and deploy["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":1.0.0")
    git_server.truncate_next_pack(0)

    healed = rec.reconcile(source)
    assert healed.ok and healed.applied_revision == bad_sha, healed.message
    deploy = c.get("apps/v1", "Deployment", "web")
    assert deploy is not None and deploy["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":5.0.0")


def test_mass_deletion_over_the_cap_is_refused_with_status_and_event(apiserver: Any, git_server: GitServer,
                                                                     tmp_path: Path) -> None:
    names = [f"cm-{i:02d}" for i in range(12)]
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cms.yaml": configmaps(names, "1")})
    rec = c.reconciler(renderer="plain")
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/cms.yaml": configmaps(names[:3], "2")}, "an accident: 9 of 12 objects removed")
    result = rec.reconcile(source)
    assert result.result == REFUSED and result.pruned == ()
    assert owned(c) == {**dict.fromkeys(names, "1"), **dict.fromkeys(names[:3], "2")}  # nothing deleted
    status = c.status()
    assert status["result"] == REFUSED and "refusing to prune 9 of 12 objects" in status["message"]
    refused = [e for e in events(c) if "refusing to prune" in e.get("message", "")]
    assert refused and refused[-1]["type"] == "Warning"
    assert refused[-1]["involvedObject"]["name"] == f"handoff-status-src-{c.target_ns}"
    assert sorted(r.name for r in (read_inventory(c.client, c.control_ns, source.name) or _none()).objects) == names


def _none() -> Any:
    raise AssertionError("no inventory")


def _ssh_key(tmp_path: Path, name: str) -> Path:
    key = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key


def test_commit_signed_by_an_untrusted_key_is_refused_and_nothing_applied(apiserver: Any, git_server: GitServer,
                                                                          tmp_path: Path) -> None:
    require_tool("kustomize")
    trusted, stranger = _ssh_key(tmp_path, "trusted"), _ssh_key(tmp_path, "stranger")
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"t@example.com {(tmp_path / 'trusted.pub').read_text()}")

    def signed_with(key: Path) -> tuple[str, ...]:
        return ("-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "-c", "commit.gpgsign=true")

    c = new_cluster(apiserver, git_server, tmp_path, {"app/README": "x"})
    good = c.repo.commit(kustomize_app(), "trusted", *signed_with(trusted))
    rec = c.reconciler(verify=Verification(mode="ssh", allowed_signers=str(signers)))
    source = rec.settings.sources[0]
    first = rec.reconcile(source)
    assert first.ok and first.applied_revision == good, first.message

    evil = c.repo.commit({"app/deployment.yaml": kustomize_app("registry.example/evil:6.6.6")["app/deployment.yaml"],
                          "app/configmap.yaml": kustomize_app()["app/configmap.yaml"].replace("prod", "pwned")},
                         "by a stranger", *signed_with(stranger))
    result = rec.reconcile(source)
    assert result.result == FAILED and result.error_kind == "refused"  # a permanent refusal (f19c), not a fetch error
    deploy = c.get("apps/v1", "Deployment", "web")
    assert deploy is not None and deploy["spec"]["template"]["spec"]["containers"][0]["image"].endswith("web:1.0.0")
    cm = c.get("v1", "ConfigMap", "web-config")
    assert cm is not None and cm["data"]["mode"] == "prod"
    status = c.status()
    assert status["lastAttemptedRevision"] == evil and status["lastAppliedRevision"] == good
    assert "not signed by a trusted key" in status["message"] and "keeping revision" in status["message"]
    assert any("not signed by a trusted key" in e.get("message", "") for e in events(c))
    ref = ObjectRef("v1", "ConfigMap", "web-config", c.target_ns)
    assert c.client.get(ref.api_version, ref.kind, ref.name, ref.namespace) is not None


def test_kill_9_between_preflight_and_the_last_apply_then_restart_completes_that_revision(
        apiserver: Any, git_server: GitServer, tmp_path: Path) -> None:
    """The reconciler stops itself after 5 applies of revision 2 (fault injection, so the kill lands at a
    known point: preflight done, apply half-way) and is killed -9 there. Restarted, it completes exactly
    revision 2: its changed objects, its new ones, and none of the ones it removed."""
    kept, dropped, added = [f"cm-{i:02d}" for i in range(10)], ["old-a", "old-b"], ["new-a", "new-b"]
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cms.yaml": configmaps(kept + dropped, "1")})
    first = run_once(c, apiserver)
    assert first.returncode == 0, first.stderr
    rev1 = c.status()["lastAppliedRevision"]
    rev2 = c.repo.commit({"app/cms.yaml": configmaps(added + kept, "2")}, "revision 2")
    env = {**os.environ, "HANDOFF_RECONCILER_PAUSE_AFTER_APPLIES": "5"}
    proc = subprocess.Popen(argv(c, apiserver, "--no-leader-elect", "--metrics-addr", "off", "--interval", "1s"),
                            stdout=subprocess.DEVNULL, stderr=(tmp_path / "killed.log").open("wb"), env=env)
    try:
        wait_for(lambda: "paused for fault injection" in (tmp_path / "killed.log").read_text())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    at_kill = owned(c)
    assert sum(rev == "2" for rev in at_kill.values()) == 5  # preflight passed, then 5 of 12 applied
    assert set(dropped) <= set(at_kill)
    _, _, pending = inventory_names(c)
    assert pending == rev2
    assert c.status()["lastAppliedRevision"] == rev1  # status never claimed the half-applied revision

    again = run_once(c, apiserver)
    assert again.returncode == 0, again.stderr
    assert owned(c) == dict.fromkeys(added + kept, "2")
    assert inventory_names(c) == (rev2, sorted(added + kept), "")
    status = c.status()
    assert status["result"] == SUCCEEDED
    assert status["lastAppliedRevision"] == status["lastAttemptedRevision"] == rev2
