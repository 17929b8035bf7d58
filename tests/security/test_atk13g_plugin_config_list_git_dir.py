"""atk13g: a builtin plugin config wrapped in a ``kind: List`` (or any ``…List`` kind) reads the checkout's
``.git/config`` (the CI token) into a ConfigMap, in each spelling of a ``generators:`` entry: a config file, an
inline config and a directory of configs.

kustomize's resource factory expands a document whose kind ends in ``List`` into its ``items`` before it
takes them as plugin configs, and resolves their ``files:`` from the outer kustomization's directory.
``handoff/render/inputs.py`` ``_plugin_configs``/``_directory_configs`` hand each *document* to
``_plugin_references``, which looks at top-level ``files``/``envs``/… only, so the wrapped config's
``files: [cfg=.git/config]`` is never checked. What should hold: nothing under ``.git`` is a render input,
whichever wrapper carries the plugin config; validate refuses with one line naming the file and key and prints
no form of the token.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from handoff.errors import HandoffError
from handoff.render import render_path
from tests.harness.tools import require_tool
from tests.security.leaks import leaks
from tests.security.test_atk13c_git_dir_reads import HEADER, TOKEN

pytestmark = pytest.mark.tools

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n"
WRAPPED = ("apiVersion: v1\nkind: {kind}\nitems:\n- apiVersion: builtin\n  kind: ConfigMapGenerator\n"
           "  metadata:\n    name: settings\n  files: [cfg=.git/config]\n")
CONFIG = ".handoff.yaml", "environments:\n  dev: {render: {type: kustomize, path: .}}\n"


def _spelling(name: str, kind: str) -> dict[str, str]:
    wrapped = WRAPPED.format(kind=kind)
    if name == "file":
        return {"kustomization.yaml": "resources: [cm.yaml]\ngenerators: [gen.yaml]\n", "gen.yaml": wrapped}
    if name == "inline":
        inline = "".join(f"  {line}\n" for line in wrapped.splitlines())
        return {"kustomization.yaml": f"resources: [cm.yaml]\ngenerators:\n- |\n{inline}"}
    return {"kustomization.yaml": "resources: [cm.yaml]\ngenerators: [gens]\n",
            "gens/kustomization.yaml": "resources: [gen.yaml]\n", "gens/gen.yaml": wrapped}


def _checkout(root: Path, files: dict[str, str]) -> Path:
    """A kustomize config repo as actions/checkout leaves it: the job's token in ``.git/config``."""
    for name, text in {CONFIG[0]: CONFIG[1], "cm.yaml": CM, **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    git = str(require_tool("git"))
    subprocess.run([git, "init", "-q", str(root)], check=True, env=env)
    subprocess.run([git, "-C", str(root), "config", "http.https://github.com/.extraheader",
                    f"AUTHORIZATION: basic {HEADER}"], check=True, env=env)
    return root


@pytest.mark.parametrize("kind", ["List", "ConfigMapList"])
@pytest.mark.parametrize("spelling", ["file", "inline", "directory"])
def test_a_list_wrapped_plugin_config_naming_git_config_renders_no_token(tmp_path: Path, spelling: str,
                                                                          kind: str) -> None:
    require_tool("kustomize")
    repo = _checkout(tmp_path / "repo", _spelling(spelling, kind))
    try:
        result = render_path(repo, repo=repo, kind="kustomize")
    except HandoffError as e:
        assert "\n" not in str(e) and ".git" in str(e), str(e)
        texts = {"error": str(e)}
    else:
        texts = {"rendered objects": repr([o.obj for o in result.objects])}
    found = leaks(texts, [TOKEN, HEADER])
    assert found == [], (f"a builtin ConfigMapGenerator config wrapped in kind: {kind} ({spelling} spelling of a "
                         "generators: entry) read .git/config into a rendered ConfigMap: "
                         f"{sorted({(w, f) for w, _, f in found})}")


def test_validate_of_a_list_wrapped_plugin_config_is_refused_and_prints_no_token(tmp_path: Path) -> None:
    require_tool("kustomize")
    repo = _checkout(tmp_path / "repo", _spelling("file", "List"))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev",
                           "--output", "json"], cwd=repo, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert leaks({"validate stdout": done.stdout, "validate stderr": done.stderr}, [TOKEN, HEADER]) == []
    assert done.returncode != 0 and ".git" in done.stderr, (
        "validate should refuse a kind: List generator config whose item names .git/config", done.returncode,
        done.stderr)
