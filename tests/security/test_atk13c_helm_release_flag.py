"""atk13c: a Helm release name from ``.handoff.yaml`` becomes a helm flag: ``--post-renderer=/bin/sh`` runs
the rendered chart as a shell script.

``environments.<env>.render.release`` is only ``{"type": "string", "minLength": 1}`` in
``handoff/schemas/handoff-config.schema.json`` (``handoff/config.py`` reads it as is), and
``handoff/render/helm.py`` ``template`` passes it as the first positional argument:
``helm template <release> <chart>``. Cobra reads ``--post-renderer=/bin/sh`` there as a flag; helm then pipes
the rendered manifests into ``/bin/sh``, and every line of a block scalar in a template is a command. The
children's environment is allow-listed, but this is code execution from the config repo: in CI it reads the
checkout (``.git/config`` tokens), the runner's files and the network (a shell ignores the proxy variables);
in the reconciler (``renderer: env`` renders what ``.handoff.yaml`` declares, ``handoff/reconciler/loop.py``
``_plan_source`` → ``plan_env``) it reads the ServiceAccount token and ``/etc/handoff/git/token``. validate
even reports "0 objects … valid". The reconciler's own ``release`` is checked against RFC 1123
(``handoff/reconciler/config.py``); the repo's is not. These tests fail until the release name is
validated (a Helm release name: lowercase RFC 1123, at most 53 characters, one line naming
``.handoff.yaml`` and the key) and helm's positionals follow ``--``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool
from tests.reconciler.cluster import new_cluster

pytestmark = pytest.mark.tools


def _files(marker: Path) -> dict[str, str]:
    return {
        ".handoff.yaml": 'environments:\n  dev: {render: {type: helm, path: chart, release: "--post-renderer=/bin/sh"}}\n',
        "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        # valid YAML for helm; each line of the block scalar is a shell command for the post-renderer
        "chart/templates/cm.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  run: |\n"
                                    f"    id > {marker}; cat /proc/self/environ >> {marker}\n"),
    }


def test_validate_does_not_let_the_release_name_run_a_post_renderer(tmp_path: Path) -> None:
    require_tool("helm")
    marker = tmp_path / "ran-as-post-renderer"
    repo = tmp_path / "repo"
    for name, text in _files(marker).items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert not marker.exists(), (
        "the .handoff.yaml release name '--post-renderer=/bin/sh' made helm run the rendered chart as a shell "
        f"script during validate (it wrote {marker}); validate said: {done.stdout + done.stderr}")
    assert done.returncode != 0 and ".handoff.yaml" in done.stderr and "release" in done.stderr, done.stderr


def test_reconcile_once_does_not_let_the_release_name_run_a_post_renderer(apiserver: Any, git_server: GitServer,
                                                                          tmp_path: Path) -> None:
    require_tool("helm")
    marker = tmp_path / "ran-in-the-reconciler"
    c = new_cluster(apiserver, git_server, tmp_path, _files(marker))
    done = subprocess.run([sys.executable, "-m", "handoff", "reconcile", "--kubeconfig", str(apiserver.kubeconfig),
                           "--repo", c.url, "--path", ".", "--revision", "main", "--name", f"src-{c.target_ns}",
                           "--target-namespace", c.target_ns, "--namespace", c.control_ns, "--token-file",
                           str(c.token_file), "--git-username", c.username, "--workdir", str(c.workdir),
                           "--renderer", "env", "--env", "dev", "--no-leader-elect", "--once"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert not marker.exists(), (
        "the repo's release name '--post-renderer=/bin/sh' made helm run the rendered chart as a shell script "
        f"inside reconcile --once (it wrote {marker}): {done.stdout[-400:]}")
    assert done.returncode != 0
