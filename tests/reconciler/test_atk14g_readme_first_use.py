"""atk14g: first use as a new user reads it. The README's `handoff reconcile --once` line (`--path
envs/prod`, no `--target-namespace`), run against the project's own example config repo
(examples/config-repo, whose envs/prod overlay puts everything in namespace `web-prod`) on a fresh cluster,
must succeed, or say in one line what to run (issue 14: "`--once` from the README on a fresh cluster
succeeds"). Real kube-apiserver + etcd, git server, kustomize, `handoff reconcile`."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.harness.tools import require_tool

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "config-repo"
_README = Path(__file__).resolve().parents[2] / "README.md"
# what the test gives itself (its cluster, repo, token and a fresh reconciler namespace and workdir)
_OWN = frozenset({"--kubeconfig", "--repo", "--token-file", "--namespace", "--workdir"})


def _readme_flags() -> tuple[str, ...]:
    """The README's ``handoff reconcile --once`` line, less the flags the test sets itself (G2's fix made
    the line name the example's namespace, ``--target-namespace web-prod --create-namespace``: without
    --target-namespace the default grant is namespace ``default`` only, and widening it would give a
    source more authority than granted; so the test runs the line as the README writes it)."""
    text = _README.read_text(encoding="utf-8").replace("\\\n", " ")
    line = next(raw for raw in text.splitlines() if raw.startswith("handoff reconcile --once"))
    words = line.split("#", 1)[0].split()[3:]
    out: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _OWN:
            skip = True
        else:
            out.append(word)
    assert out[:4] == ["--path", "envs/prod", "--revision", "main"], f"the README line changed: {line}"
    return tuple(out[4:])


def _example_files() -> dict[str, str]:
    return {str(p.relative_to(_EXAMPLE)): p.read_text() for p in sorted(_EXAMPLE.rglob("*")) if p.is_file()}


def _readme_once(apiserver: Any, git_server: Any, tmp_path: Path,
                 extra: tuple[str, ...]) -> tuple[Any, list[str], subprocess.CompletedProcess[str], str]:
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, _example_files())
    fresh = f"handoff-{uuid.uuid4().hex[:6]}"  # handoff-system on a fresh cluster; fresh here, as in test_first_use
    assert c.client.get("v1", "Namespace", "web-prod") is None, "precondition: a fresh cluster"
    argv = [sys.executable, "-m", "handoff", "reconcile", "--once", "--kubeconfig", str(apiserver.kubeconfig),
            "--repo", c.url, "--path", "envs/prod", "--revision", "main", "--token-file", str(c.token_file),
            "--namespace", fresh, "--workdir", str(c.workdir), *extra]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "HANDOFF_GIT_USERNAME": c.username})
    return c, argv, done, (done.stdout + done.stderr).strip()


# the case that leaves web-prod missing runs first: the README line creates it, and the API server (one per
# session, without a namespace controller) keeps it for every later test
@pytest.mark.parametrize("extra", [("--target-namespace", "web-prod"), _readme_flags()],
                         ids=["with-target-namespace-as-docs-reconciler-md", "readme-line"])
def test_the_readme_once_line_applies_the_example_repo_on_a_fresh_cluster(
        apiserver: Any, git_server: Any, tmp_path: Path, extra: tuple[str, ...]) -> None:
    c, argv, done, out = _readme_once(apiserver, git_server, tmp_path, extra)
    worker = c.client.get("batch/v1", "CronJob", "web-cleanup", "web-prod") if c.client.get(
        "v1", "Namespace", "web-prod") else None
    # the README line must just work; with --target-namespace added, a one-line "what to run" is fair too
    told = bool(extra) and done.returncode != 0 and any(
        "kubectl create namespace web-prod" in line and "404" not in line for line in out.splitlines())
    assert (done.returncode == 0 and worker is not None) or told, (
        f"the README's --once line {' '.join(argv[3:7])} … --path envs/prod {' '.join(extra)} on the example "
        f"repo and a fresh cluster did not apply it (exit {done.returncode}); what a new user reads:\n{out[-1500:]}")


def test_a_once_pass_that_gives_up_does_not_say_it_is_retrying(apiserver: Any, git_server: Any,
                                                              tmp_path: Path) -> None:
    """`--once` tries again only a transient failure; a refusal ends the process at once. What it prints
    (and publishes in status) must then not promise a retry: the issue's first-use report quoted exactly
    that "(attempt 1, retrying in 1s)" followed by an exit. The refusal here: an object outside the grant."""
    c = new_cluster(apiserver, git_server, tmp_path, {
        "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: kube-system}\n"})
    argv = [sys.executable, "-m", "handoff", "reconcile", "--once", "--kubeconfig", str(apiserver.kubeconfig),
            "--repo", c.url, "--path", "app", "--revision", "main", "--token-file", str(c.token_file),
            "--namespace", c.control_ns, "--target-namespace", c.target_ns, "--workdir", str(c.workdir)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "HANDOFF_GIT_USERNAME": c.username})
    out = (done.stdout + done.stderr).strip()
    assert done.returncode != 0 and "may not touch" in out, f"precondition: the pass was refused: {out[-800:]}"
    said = [line for line in out.splitlines() if "retrying in" in line]
    status = (c.client.get("v1", "ConfigMap", "handoff-status-default", c.control_ns) or {}).get("data") or {}
    assert not said and "retrying in" not in status.get("message", ""), (
        f"`handoff reconcile --once` exited after one attempt (exit {done.returncode}) while saying it would "
        f"retry: {(said or [status.get('message', '')])[-1][:600]}")
