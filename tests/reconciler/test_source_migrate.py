"""The upgrade from the ConfigMap form: ``handoff reconciler sources-to-crd`` prints the config file's
sources as Source objects; applied to the harness's real kube-apiserver (with the Secret it names), the
reconciler serves them from the CRD. And the install manifests serve both forms by default."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff.cli import main
from handoff.reconciler.config import load_settings
from handoff.reconciler.migrate import sources_to_crd
from handoff.reconciler.sourcecrd import API_VERSION, KIND

from .cluster import Cluster
from .test_source_crd_live import cluster as cluster  # noqa: PLC0414 (the fixture, shared)
from .test_source_crd_live import ready


def _config(c: Cluster, tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "reconciler.yaml"
    path.write_text(f"namespace: {c.control_ns}\n"
                    "sources:\n"
                    "  - name: web\n"
                    f"    url: {c.url}\n"
                    "    branch: main\n"
                    "    path: app\n"
                    "    renderer: plain\n"
                    f"    namespace: {c.target_ns}\n"
                    "    interval: 30s\n"
                    f"    credentials: {{tokenFile: {c.token_file}, username: {c.username}}}\n" + extra)
    return path


@pytest.mark.tools
@pytest.mark.slow
def test_printed_source_objects_apply_and_are_reconciled(cluster: Cluster, apiserver: Any, tmp_path: Path,
                                                         capsys: Any) -> None:
    c = cluster
    assert main(["reconciler", "sources-to-crd", "--config", str(_config(c, tmp_path))]) == 0
    printed = capsys.readouterr()
    objects = list(yaml.safe_load_all(printed.out))
    assert [(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in objects] == [
        (KIND, c.target_ns, "web")]
    spec = objects[0]["spec"]
    assert (spec["url"], spec["revision"], spec["path"], spec["interval"], spec["secretRef"]) == (
        c.url, "main", "app", "30s", {"name": "git-credentials"})
    assert printed.err == ""
    c.client.apply({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": "git-credentials", "namespace": c.target_ns},
                    "data": {"token": base64.b64encode(c.token_file.read_bytes()).decode(),
                             "username": base64.b64encode(c.username.encode()).decode()}})
    for obj in objects:  # what `kubectl apply -f -` does with the output
        c.client.create(obj)
    code = main(["reconcile", "--sources-from", "crd", "--allow-private-hosts", "--once", "--kubeconfig", str(apiserver.kubeconfig),
                 "--namespace", c.control_ns, "--workdir", str(c.workdir), "--watch-namespace", c.target_ns])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{c.target_ns}/web: Succeeded" in out
    assert c.get("v1", "ConfigMap", "one") is not None
    condition = ready(c)
    assert condition is not None and condition["status"] == "True"
    assert c.client.get(API_VERSION, KIND, "web", c.target_ns) is not None


def test_what_a_source_object_cannot_say_is_named(tmp_path: Path) -> None:
    path = tmp_path / "reconciler.yaml"
    path.write_text("sources:\n"
                    "  - name: web\n"
                    "    url: https://git.example.com/org/config.git\n"
                    "    namespace: team-a\n"
                    "    authority: {namespaces: [team-a, team-b]}\n"
                    "    serviceAccount: other/deployer\n")
    migrated = sources_to_crd(load_settings(path), namespace="team-a")
    assert "secretRef" not in migrated.objects[0]["spec"]  # no credentials, no Secret to name
    assert "serviceAccountName" not in migrated.objects[0]["spec"]
    assert any("authority" in n and "tenants" in n for n in migrated.notes)
    assert any("other/deployer" in n for n in migrated.notes)


def test_the_cluster_wide_deployment_serves_both_forms_and_may_record_source_events(capsys: Any) -> None:
    for flags, expected in (((), "both"), (("--namespaced", "--namespace", "team-a"), "config")):
        assert main(["reconciler", "manifests", *flags]) == 0
        docs = list(yaml.safe_load_all(capsys.readouterr().out))
        deployment = next(d for d in docs if d["kind"] == "Deployment")
        args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        assert args[args.index("--sources-from") + 1] == expected
        # Events on Source objects land in their namespaces: the apply role may create and count them
        role = next(d for d in docs if d["kind"] in ("ClusterRole", "Role") and d["metadata"]["name"].endswith(
            ("reconciler", "apply")))
        assert any("events" in r["resources"] and {"create", "patch", "get"} <= set(r["verbs"])
                   for r in role["rules"]), role
