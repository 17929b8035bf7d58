"""atk13d: a chart at the repo root reaches the checkout's ``.git`` through a link to itself.

A chart at the repo root is given to helm as a staged directory of links to each top-level entry but
``.git`` (``handoff/render/helm.py`` ``_without_git``). A top-level link ``self -> .`` is staged like any
other entry, and through it helm walks the real root again, ``.git`` included. The loop the link makes
(``self/self/…``) is cut by the chart's own ``.helmignore`` (``self/self``), so helm renders and
``.Files.Get "self/.git/config"`` is the checkout's ``.git/config``, where ``actions/checkout`` persisted
the job's token. The links check (``handoff/render/inputs.py``) refuses ``chart/up -> ..`` in a subdirectory
chart ("a .git directory ... would be read"), but lets ``self -> .`` at the root through. What should hold:
nothing under ``.git`` is a render input, whatever link leads there; validate refuses with one line naming
the link and prints no form of the token.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.tools import require_tool
from tests.security.leaks import leaks
from tests.security.test_atk13c_git_dir_reads import HEADER, TOKEN

pytestmark = pytest.mark.tools

FILES = {".handoff.yaml": "environments:\n  dev: {render: {type: helm, path: ., release: web}}\n",
         "Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
         ".helmignore": "self/self\n",
         "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n",
         "templates/leak.yaml": '{{- with .Files.Get "self/.git/config" }}{{ fail (. | b32enc) }}{{ end }}\n'}


def _checkout(root: Path) -> Path:
    """A one-chart config repo as actions/checkout leaves it (token in .git/config), with ``self -> .``."""
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / "self").symlink_to(".")
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "config", "http.https://github.com/.extraheader",
                    f"AUTHORIZATION: basic {HEADER}"], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm",
                    "a root chart that links to itself"], check=True, env=env)
    return root


def test_a_root_chart_linking_to_itself_cannot_read_the_checkouts_git_dir(tmp_path: Path) -> None:
    require_tool("helm")
    repo = _checkout(tmp_path / "repo")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    texts: dict[str, str] = {}
    for output in ("text", "json"):
        done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev",
                               "--output", output], cwd=repo, env=env, capture_output=True, text=True, timeout=300,
                              check=False)
        texts[f"validate {output} stdout"], texts[f"validate {output} stderr"] = done.stdout, done.stderr
        assert done.returncode != 0
    found = leaks(texts, [TOKEN, HEADER])
    assert found == [], (
        "a root chart's link `self -> .` (loop cut by .helmignore) let helm read self/.git/config and print the "
        f"persisted CI checkout token: {sorted({(w, f) for w, _, f in found})}")
    assert "self" in texts["validate text stderr"] and ".git" in texts["validate text stderr"], \
        texts["validate text stderr"]
