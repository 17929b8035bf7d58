"""Repo-written YAML read outside a render (``.handoff.yaml``, policy-dir files) has the render's node budget:
aliases counted as expanded, refused with one line naming the file and the alias's line past it; below it,
aliased nodes stay shared, so loading costs memory linear in the text (issue 13, atk13c finding 8)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from handoff.config import load_config
from handoff.errors import ConfigError, HandoffError
from handoff.manifests import yamlio
from handoff.manifests.bounds import DEFAULT_MAX_NODES, DEFAULT_MAX_RENDER_NODES
from handoff.manifests.schemacheck import line_for, node_lines
from handoff.policy.yamlsource import load_documents
from tests.harness.memory import peak_rss

POD_LIMIT_KIB = 256 * 1024
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  mode: prod\n"


def _block(levels: int, indent: str) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "".join(f"{indent}{line}\n" for line in lines)


def _config(levels: int) -> str:
    return ("environments:\n  dev: {render: {type: plain, path: app}}\npolicies:\n  params:\n   lol:\n"
            + _block(levels, "    "))


def _write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")


def test_the_file_alias_budget_is_the_render_node_budget() -> None:
    assert DEFAULT_MAX_NODES == DEFAULT_MAX_RENDER_NODES == 1_000_000
    assert yamlio.Limits().max_nodes == DEFAULT_MAX_NODES


def test_a_config_whose_aliases_pass_the_budget_is_one_line_naming_file_and_alias_line(tmp_path: Path) -> None:
    _write(tmp_path, {".handoff.yaml": _config(7)})  # 9^7 = 4.8M nodes
    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(".handoff.yaml:"), message
    assert "1000000 nodes" in message
    line = int(message.split(":")[1])
    assert "*a" in _config(7).splitlines()[line - 1], message  # the line of an alias, past the budget


def test_a_policy_dir_yaml_past_the_budget_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: p\ndata:\n" + _block(7, "  "))
    with pytest.raises(HandoffError) as refused:
        list(load_documents(path, "policy/params.yaml"))
    assert "\n" not in str(refused.value)
    assert "policy/params.yaml" in str(refused.value) and "1000000 nodes" in str(refused.value)


def test_aliased_nodes_below_the_budget_stay_shared_in_data_and_lines() -> None:
    text = "lol:\n" + _block(6, "  ")  # 9^6 = 531,441 scalars: under the budget
    root = yamlio.compose_all(text, display="f.yaml", limits=yamlio.Limits())[0]
    assert root is not None
    data = yamlio.to_data(root)
    assert data["lol"]["a5"][0] is data["lol"]["a5"][1] is data["lol"]["a4"]
    assert data["lol"]["a5"][8][8][8][8][8] == ["x"] * 9  # the same values as an expanded copy
    located = yamlio.to_located(root)
    assert located["lol"]["a5"][0] is located["lol"]["a4"]
    lines = node_lines(root)
    assert len(lines) < 200  # one entry per written node, not per expanded path (6 million)
    assert line_for(lines, "lol.a5[3][2][1]") == 6  # a path under a repeat: the line of the node repeated (*a4)


@pytest.mark.tools
def test_validate_with_aliases_just_under_the_budget_stays_within_the_pod_memory(tmp_path: Path,
                                                                                  record_property: Any) -> None:
    repo = tmp_path / "repo"
    _write(repo, {".handoff.yaml": _config(6), "app/cm.yaml": CM})
    code, own_kib, _ = peak_rss([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo),
                                 "--env", "dev"], tmp_path / "validate.log")
    out = (tmp_path / "validate.log").read_text(errors="replace")
    print(f"\nvalidate with a 531k-node aliased .handoff.yaml: exit {code}, peak RSS {own_kib / 1024:.1f} MiB")
    record_property("validate_aliased_under_budget_peak_rss_mib", round(own_kib / 1024, 1))
    assert code == 0, out[-500:]
    assert own_kib < POD_LIMIT_KIB, f"{own_kib / 1024:.0f} MiB: {out[-300:]}"
