"""Builtin plugin configs (under ``generators:``/``transformers:``/``validators:``) are render inputs like the
kustomization's own fields: every path they name is checked, every generator key they write is counted, and a
directory of them (a kustomization whose objects kustomize takes as configs, their paths resolved from the
outer kustomization's directory) is read as one, holding nothing but ``resources``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from handoff.errors import HandoffError
from handoff.render import render_path
from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n"
SAFE = "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: settings\nfiles: [app.properties]\n"


def _repo(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"cm.yaml": CM, "app.properties": "a=b\n", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run([str(require_tool("git")), "init", "-q", str(root)], check=True, env=env)
    return root


def _refusal(root: Path, files: dict[str, str]) -> str:
    repo = _repo(root, files)
    with pytest.raises(HandoffError) as refused:
        render_path(repo, repo=repo, kind="kustomize")
    message = str(refused.value)
    assert "\n" not in message, message
    return message


@pytest.mark.parametrize("config", [
    "apiVersion: builtin\nkind: PatchStrategicMergeTransformer\nmetadata:\n  name: p\npaths: [.git/config]\n",
    "apiVersion: builtin\nkind: HelmChartInflationGenerator\nmetadata:\n  name: h\nname: web\n"
    "additionalValuesFiles: [.git/config]\n"], ids=["smp-paths", "helm-additional-values"])
def test_plugin_config_path_lists_into_git_are_refused(tmp_path: Path, config: str) -> None:
    require_tool("kustomize")
    message = _refusal(tmp_path / "repo", {"kustomization.yaml": "resources: [cm.yaml]\ntransformers: [t.yaml]\n",
                                           "t.yaml": config})
    assert "t.yaml" in message and ".git" in message and "[0]" in message, message


def test_a_nested_directory_of_generator_configs_is_checked_from_the_outer_directory(tmp_path: Path) -> None:
    require_tool("kustomize")
    message = _refusal(tmp_path / "repo", {
        "kustomization.yaml": "resources: [cm.yaml]\ngenerators: [gens]\n",
        "gens/kustomization.yaml": "resources: [more]\n", "gens/more/kustomization.yaml": "resources: [gen.yaml]\n",
        "gens/more/gen.yaml": SAFE.replace("app.properties", "cfg=.git/config")})
    assert "gens/more/gen.yaml" in message and "files[0]" in message and ".git" in message, message


@pytest.mark.parametrize("field", ["patches: [{path: p.yaml}]", "generators: [inner.yaml]",
                                   "replacements: [{path: r.yaml}]", "namePrefix: x-"])
def test_a_directory_of_plugin_configs_holding_more_than_resources_is_refused(tmp_path: Path, field: str) -> None:
    require_tool("kustomize")
    message = _refusal(tmp_path / "repo", {"kustomization.yaml": "resources: [cm.yaml]\ngenerators: [gens]\n",
                                           "gens/kustomization.yaml": f"resources: [gen.yaml]\n{field}\n",
                                           "gens/gen.yaml": SAFE})
    assert "gens/kustomization.yaml:2" in message and field.partition(":")[0] in message, message


def test_a_directory_of_safe_generator_configs_still_renders(tmp_path: Path) -> None:
    require_tool("kustomize")
    repo = _repo(tmp_path / "repo", {"kustomization.yaml": "resources: [cm.yaml]\ngenerators: [gens]\n",
                                     "gens/kustomization.yaml": "resources: [gen.yaml]\n", "gens/gen.yaml": SAFE})
    names = sorted(o.obj["metadata"]["name"] for o in render_path(repo, repo=repo, kind="kustomize").objects)
    assert names[0].startswith("settings-") and names[1] == "web", names


def test_an_inline_generator_configs_env_file_counts_each_line(tmp_path: Path) -> None:
    require_tool("kustomize")
    inline = "apiVersion: builtin\\nkind: ConfigMapGenerator\\nmetadata: {name: wide}\\nenvs: [wide.env]\\n"
    message = _refusal(tmp_path / "repo", {"kustomization.yaml": f'resources: [cm.yaml]\ngenerators: ["{inline}"]\n',
                                           "wide.env": "".join(f"k{i}=v\n" for i in range(12_000))})
    assert "10000" in message and "generators[0]: envs[0]" in message, message


def test_plugin_config_literals_count_against_the_entry_budget(tmp_path: Path) -> None:
    require_tool("kustomize")
    literals = ", ".join(f"k{i}=v" for i in range(6_000))
    configs = {f"g{n}.yaml": f"apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {{name: g{n}}}\n"
                             f"literals: [{literals}]\n" for n in range(2)}
    message = _refusal(tmp_path / "repo", {"kustomization.yaml": "resources: [cm.yaml]\ngenerators: [g0.yaml, g1.yaml]\n",
                                           **configs})
    assert "10000" in message and "g1.yaml" in message and "literals" in message, message
