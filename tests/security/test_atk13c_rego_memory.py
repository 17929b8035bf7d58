"""atk13c: a Rego policy in the config repo runs in handoff's own process, outside every memory cap.

The renderer children are killed past ``maxChildMemory`` and the render is bounded by nodes, objects and
bytes (``handoff/manifests/bounds.py``), but ``.handoff.yaml`` ``policies.dirs`` Rego is evaluated in-process
by regopy (``handoff/policy/rego.py`` ``RegoEngine._query``): ``count(numbers.range(1, 1000000))`` builds
a million terms, and the process peaks near 470 MiB within two seconds, for a 100-byte rule. The reconciler
loads the repo's ``.handoff.yaml`` for every revision (``handoff/reconciler/loop.py``), so the same rule
takes ``reconcile --once`` past the 256Mi its Pod is limited to (an OOM kill each pass, GitOps stopped for
every source). These tests fail until repo policies run with a memory bound (a child process under the
child memory cap, or a refused/limited ``numbers.range``/comprehension size) and fail with one line.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.harness.git_server import GitServer
from tests.harness.memory import peak_rss
from tests.reconciler.cluster import new_cluster

pytestmark = pytest.mark.tools

POD_LIMIT_KIB = 256 * 1024
POLICY = ('package main\nimport rego.v1\n'
          'deny contains msg if {\n  n := count(numbers.range(1, 1000000))\n'
          '  msg := concat(" ", ["counted", format_int(n, 10)])\n}\n')
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  mode: prod\n"
CONFIG = "environments:\n  dev: {render: {type: plain, path: app}}\npolicies:\n  dirs: [policy]\n"
FILES = {".handoff.yaml": CONFIG, "app/cm.yaml": CM, "policy/range.rego": POLICY}


def test_validate_running_a_repo_rego_policy_stays_within_the_memory_caps(tmp_path: Path,
                                                                          record_property: Any) -> None:
    pytest.importorskip("regopy")
    repo = tmp_path / "repo"
    for name, text in FILES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    code, own_kib, _ = peak_rss([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo),
                                 "--env", "dev"], tmp_path / "validate.log")
    out = (tmp_path / "validate.log").read_text(errors="replace")
    print(f"\nvalidate with a numbers.range(1, 1000000) policy: exit {code}, peak RSS {own_kib / 1024:.1f} MiB")
    record_property("validate_rego_peak_rss_mib", round(own_kib / 1024, 1))
    assert own_kib < POD_LIMIT_KIB, (
        f"a 100-byte Rego rule from the config repo took handoff validate to {own_kib / 1024:.0f} MiB; repo "
        f"policies must run under a memory cap and fail with one line: {out[-400:]}")


def test_reconcile_once_running_a_repo_rego_policy_stays_within_the_pod_memory(apiserver: Any, git_server: GitServer,
                                                                               tmp_path: Path,
                                                                               record_property: Any) -> None:
    pytest.importorskip("regopy")
    c = new_cluster(apiserver, git_server, tmp_path, dict(FILES))
    argv = [sys.executable, "-m", "handoff", "reconcile", "--kubeconfig", str(apiserver.kubeconfig), "--repo", c.url,
            "--path", "app", "--revision", "main", "--name", f"src-{c.target_ns}", "--target-namespace", c.target_ns,
            "--namespace", c.control_ns, "--token-file", str(c.token_file), "--git-username", c.username,
            "--workdir", str(c.workdir), "--renderer", "plain", "--no-leader-elect", "--once"]
    code, own_kib, _ = peak_rss(argv, tmp_path / "reconcile.log")
    log = (tmp_path / "reconcile.log").read_text(errors="replace")
    print(f"\nreconcile --once with a numbers.range(1, 1000000) policy: exit {code}, peak RSS {own_kib / 1024:.1f} MiB")
    record_property("reconciler_rego_peak_rss_mib", round(own_kib / 1024, 1))
    assert "counted" in log or "range.rego" in log or code != 0, log  # the repo policy was evaluated
    assert own_kib < POD_LIMIT_KIB, (
        f"a 100-byte Rego rule from the config repo took reconcile --once to {own_kib / 1024:.0f} MiB, past the "
        f"reconciler Pod's 256Mi limit: {log[-400:]}")
