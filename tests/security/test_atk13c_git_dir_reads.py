"""atk13c: a render may read the checkout's own ``.git/`` directory, where CI keeps its checkout token.

``actions/checkout`` (default ``persist-credentials: true``) writes the job's token into ``.git/config`` as
``http.https://github.com/.extraheader = AUTHORIZATION: basic base64(x-access-token:<token>)``; GitLab
runners put ``gitlab-ci-token:<token>@`` in the remote URL there. ``handoff validate`` renders in that checkout.
The symlink check (``handoff/render/inputs.py`` ``check_inputs`` through ``handoff/pathsafe.py``
``contained``/``check_tree``) only refuses targets outside the repository root, and ``.git/config`` is under
it: a chart link ``chart/gitcfg -> ../.git/config`` and ``{{ fail (.Files.Get "gitcfg" | b32enc) }}`` print
the token base32-encoded in validate's one-line error (``handoff/render/helm.py`` masks only values-file
strings; the redaction layer knows no base32 and validate registers no token). ``.git`` is not repository
content: nothing under it may be a render input (refused like a link leaving the repo, one line naming the
link). This test fails until it is.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.tools import require_tool
from tests.security.leaks import leaks

pytestmark = pytest.mark.tools

TOKEN = "ghs_atk13cPersistedCheckoutToken01"
HEADER = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
FILES = {".handoff.yaml": "environments:\n  dev: {render: {type: helm, path: chart}}\n",
         "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
         "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n",
         "chart/templates/fail.yaml": '{{ fail (.Files.Get "gitcfg" | b32enc) }}\n'}


def _checkout(root: Path) -> Path:
    """A config repo as actions/checkout leaves it: the job's token persisted in .git/config."""
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / "chart" / "gitcfg").symlink_to("../.git/config")
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "config", "http.https://github.com/.extraheader",
                    f"AUTHORIZATION: basic {HEADER}"], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm",
                    "a chart that links into .git"], check=True, env=env)
    return root


def test_a_chart_link_into_the_checkouts_git_dir_is_refused_and_leaks_no_token(tmp_path: Path) -> None:
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
        "a chart symlink into the checkout's .git/config (inside the repo root, so the link check let it through) "
        f"printed the persisted CI checkout token in validate's output: {sorted({(w, f) for w, _, f in found})}")
    assert "chart/gitcfg" in texts["validate text stderr"], texts["validate text stderr"]
