"""atk13f: a kustomize ``generators:`` entry that is a *directory* (a kustomization whose resources are
builtin plugin configs) reads the checkout's ``.git/config`` into a ConfigMap.

atk13e's fix looks into a plugin config *file* (``handoff/render/inputs.py`` ``_plugin_configs``), but a
directory entry is skipped there ("a directory of configs is a kustomization: checked as one"), and
``_reference`` does not check it as one either: only ``resources``/``bases``/``components`` entries are
walked as kustomizations, so ``generators: [gens]`` gets ``check_tree`` (links only). kustomize builds
``gens/``, takes the objects as generator configs and resolves their ``files:`` from the *outer*
kustomization's directory, so ``files: [cfg=.git/config]`` reads the checkout's persisted token. What should
hold: nothing under ``.git`` is a render input, whichever kustomize field or spelling names it; validate
refuses with one line naming the file and key, and prints no form of the token.
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
GENERATOR = "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: settings\nfiles: [cfg=.git/config]\n"
FILES = {".handoff.yaml": "environments:\n  dev: {render: {type: kustomize, path: .}}\n",
         "kustomization.yaml": "resources: [cm.yaml]\ngenerators: [gens]\n",
         "cm.yaml": CM,
         "gens/kustomization.yaml": "resources: [gen.yaml]\n",
         "gens/gen.yaml": GENERATOR}


def _checkout(root: Path) -> Path:
    """A kustomize config repo as actions/checkout leaves it: the job's token in ``.git/config``."""
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    git = str(require_tool("git"))
    subprocess.run([git, "init", "-q", str(root)], check=True, env=env)
    subprocess.run([git, "-C", str(root), "config", "http.https://github.com/.extraheader",
                    f"AUTHORIZATION: basic {HEADER}"], check=True, env=env)
    subprocess.run([git, "-C", str(root), "add", "-A"], check=True, env=env)
    subprocess.run([git, "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm",
                    "a directory of generator configs naming .git/config"], check=True, env=env)
    return root


def test_a_generator_directory_naming_git_config_renders_no_token(tmp_path: Path) -> None:
    require_tool("kustomize")
    repo = _checkout(tmp_path / "repo")
    try:
        result = render_path(repo, repo=repo, kind="kustomize")
    except HandoffError as e:
        assert "\n" not in str(e) and "gen.yaml" in str(e), str(e)
        texts = {"error": str(e)}
    else:
        texts = {"rendered objects": repr([o.obj for o in result.objects])}
    found = leaks(texts, [TOKEN, HEADER])
    assert found == [], ("a directory under `generators:` holding a builtin ConfigMapGenerator config read "
                         f".git/config into a rendered ConfigMap: {sorted({(w, f) for w, _, f in found})}")


def test_validate_of_a_generator_directory_naming_git_config_is_refused_and_prints_no_token(tmp_path: Path) -> None:
    require_tool("kustomize")
    repo = _checkout(tmp_path / "repo")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    texts: dict[str, str] = {}
    codes: dict[str, int] = {}
    for output in ("text", "json"):
        done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev",
                               "--output", output], cwd=repo, env=env, capture_output=True, text=True, timeout=300,
                              check=False)
        texts[f"validate {output} stdout"], texts[f"validate {output} stderr"] = done.stdout, done.stderr
        codes[output] = done.returncode
    assert leaks(texts, [TOKEN, HEADER]) == []
    assert codes["text"] != 0 and ".git" in texts["validate text stderr"], (
        "validate should refuse a generator directory whose config names .git/config", codes,
        texts["validate text stderr"])

