"""Tenants in the reconciler config file (``tenants:``), the same schema and the one parser a ``--tenants``
file uses: read with file, line and key errors, and what a Source object may touch in the real cluster
(the harness's kube-apiserver + etcd and git server) follows them; a ``--tenants`` file replaces them."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.cli import main
from handoff.errors import ConfigError
from handoff.reconciler.config import load_settings
from handoff.reconciler.tenancy import load_tenants

from .cluster import Cluster
from .test_source_crd_live import cluster as cluster  # noqa: PLC0414 (the fixture, shared)
from .test_source_crd_live import get_source, source_object

TENANTS = ("tenants:\n"
           "  - namespaces: [team-*]\n"
           "    authority: {namespaces: ['{namespace}', '{namespace}-*'], clusterKinds: []}\n")


def _config(tmp_path: Path, body: str, url: str = "https://git.example.com/org/config.git",
            extra: str = "") -> Path:
    path = tmp_path / "reconciler.yaml"
    path.write_text(f"sources:\n  - name: web\n    url: {url}\n{extra}{body}")
    return path


def test_the_config_files_tenants_are_the_tenants_files(tmp_path: Path) -> None:
    in_config = load_settings(_config(tmp_path, TENANTS)).tenants
    (tmp_path / "tenants.yaml").write_text(TENANTS)
    assert in_config == load_tenants(tmp_path / "tenants.yaml")
    assert in_config[0].authority.namespaces == ("{namespace}", "{namespace}-*")
    assert load_settings(_config(tmp_path, "")).tenants == ()


def test_a_bad_tenants_block_names_file_line_and_key(tmp_path: Path) -> None:
    path = _config(tmp_path, "tenants:\n  - authority: {}\n")
    with pytest.raises(ConfigError) as e:
        load_settings(path)
    assert (e.value.file, e.value.line) == (str(path), 5)  # the tenant missing its namespaces
    assert "namespaces" in str(e.value)
    path = _config(tmp_path, "tenants:\n  - namespaces: [a]\n    authority: {namspaces: [b]}\n")
    with pytest.raises(ConfigError) as e:
        load_settings(path)
    assert e.value.file == str(path) and "namspaces" in str(e.value)


@pytest.mark.tools
@pytest.mark.slow
def test_a_config_file_tenant_lets_a_source_object_reach_the_namespaces_it_grants(
        cluster: Cluster, apiserver: Any, tmp_path: Path, capsys: Any) -> None:
    c = cluster
    reach = f"{c.target_ns}-extra"  # granted by '{namespace}-*'
    c.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": reach}})
    c.repo.commit({"reach/cm.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x, namespace: {reach}}}\n"
                                    "data: {a: b}\n"}, "reach into the granted namespace")
    c.client.create(source_object(c, "reach", path="reach"))
    tenants = (f"tenants:\n  - namespaces: ['{c.target_ns}']\n"
               "    authority: {namespaces: ['{namespace}', '{namespace}-*']}\n")
    config = _config(tmp_path, f"namespace: {c.control_ns}\n{tenants}", url=c.url, extra=(
        "    path: app\n    renderer: plain\n"
        f"    namespace: {c.target_ns}\n"
        f"    credentials: {{tokenFile: {c.token_file}, username: {c.username}}}\n"))
    argv = ["reconcile", "--config", str(config), "--sources-from", "both", "--allow-private-hosts", "--once", "--kubeconfig",
            str(apiserver.kubeconfig), "--workdir", str(c.workdir), "--watch-namespace", c.target_ns]
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{c.target_ns}/reach: Succeeded" in out and "web: Succeeded" in out
    assert c.client.get("v1", "ConfigMap", "x", reach) is not None
    # a --tenants file replaces the config file's tenants: without the grant the revision is refused
    other = f"team-{uuid.uuid4().hex[:6]}"
    (tmp_path / "narrow.yaml").write_text(f"tenants:\n  - namespaces: ['{other}']\n")
    c.repo.commit({"reach/cm.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x, namespace: {reach}}}\n"
                                    "data: {a: c}\n"}, "change it")
    code = main([*argv, "--tenants", str(tmp_path / "narrow.yaml")])
    out = capsys.readouterr().out
    assert code != 0 and f"{c.target_ns}/reach: Refused" in out, out
    ready = next(x for x in (get_source(c, "reach") or {})["status"]["conditions"] if x["type"] == "Ready")
    assert ready["reason"] == "AuthorityDenied"
