"""atk13c: a ValidatingAdmissionPolicy in the config repo doubles a string through its ``variables``.

``spec.variables`` are evaluated in order, each may use the ones before it (``handoff/policy/vap.py``
``_run``), and CEL evaluation has no cost limit here: ``v0 = 'xxxxxxxxxxxxxxxx'``,
``v{i} = variables.v{i-1} + variables.v{i-1}`` for 22 steps is a 64 MiB string, and handoff peaks at 510 MiB
in under a second (26 steps: 3.7 GiB). The Kubernetes API server refuses such a policy at admission: it
charges every expression a static cost estimate and each evaluation a runtime cost budget. handoff
evaluates repo policies in-process, outside every memory cap, on CI (``validate``, ``propose``) and in
the reconciler, which loads the repo's ``policies.dirs`` for every revision. These tests fail until CEL
runs with a cost or size budget (as the API server's ``PerCallLimit``/``RuntimeCELCostBudget``) and a policy
over it is one line naming the file and the variable.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.harness.git_server import GitServer
from tests.reconciler.cluster import new_cluster
from tests.security.test_render_children import peak_rss

pytestmark = pytest.mark.tools

POD_LIMIT_KIB = 256 * 1024
STEPS = 22


def _policy() -> str:
    variables = ["    - {name: v0, expression: \"'xxxxxxxxxxxxxxxx'\"}"]
    variables += [f"    - {{name: v{i}, expression: \"variables.v{i - 1} + variables.v{i - 1}\"}}"
                  for i in range(1, STEPS + 1)]
    return ("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: grow}\n"
            "spec:\n  matchConstraints:\n    resourceRules: [{apiGroups: [\"\"], apiVersions: [\"v1\"], "
            "operations: [\"CREATE\", \"UPDATE\"], resources: [\"configmaps\"]}]\n  variables:\n"
            + "\n".join(variables)
            + f"\n  validations:\n    - expression: \"size(variables.v{STEPS}) < 0\"\n      message: grown\n---\n"
            "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\n"
            "metadata: {name: grow}\nspec:\n  policyName: grow\n  validationActions: [Deny]\n")


FILES = {".handoff.yaml": "environments:\n  dev: {render: {type: plain, path: app}}\npolicies:\n  dirs: [policy]\n",
         "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  mode: prod\n",
         "policy/grow.yaml": _policy()}


def test_validate_running_a_doubling_vap_stays_within_the_memory_caps(tmp_path: Path, record_property: Any) -> None:
    repo = tmp_path / "repo"
    for name, text in FILES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    code, own_kib, _ = peak_rss([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo),
                                 "--env", "dev"], tmp_path / "validate.log")
    out = (tmp_path / "validate.log").read_text(errors="replace")
    print(f"\nvalidate with a {STEPS}-step doubling VAP: exit {code}, peak RSS {own_kib / 1024:.1f} MiB")
    record_property("validate_vap_doubling_peak_rss_mib", round(own_kib / 1024, 1))
    assert "grow" in out  # the policy was evaluated (or refused by name)
    assert own_kib < POD_LIMIT_KIB, (
        f"a repo ValidatingAdmissionPolicy doubling a string through {STEPS} variables took validate to "
        f"{own_kib / 1024:.0f} MiB; CEL needs a cost budget: {out[-300:]}")


def test_reconcile_once_running_a_doubling_vap_stays_within_the_pod_memory(apiserver: Any, git_server: GitServer,
                                                                           tmp_path: Path,
                                                                           record_property: Any) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, dict(FILES))
    argv = [sys.executable, "-m", "handoff", "reconcile", "--kubeconfig", str(apiserver.kubeconfig), "--repo", c.url,
            "--path", "app", "--revision", "main", "--name", f"src-{c.target_ns}", "--target-namespace", c.target_ns,
            "--namespace", c.control_ns, "--token-file", str(c.token_file), "--git-username", c.username,
            "--workdir", str(c.workdir), "--renderer", "plain", "--no-leader-elect", "--once"]
    code, own_kib, _ = peak_rss(argv, tmp_path / "reconcile.log")
    log = (tmp_path / "reconcile.log").read_text(errors="replace")
    print(f"\nreconcile --once with a {STEPS}-step doubling VAP: exit {code}, peak RSS {own_kib / 1024:.1f} MiB")
    record_property("reconciler_vap_doubling_peak_rss_mib", round(own_kib / 1024, 1))
    assert own_kib < POD_LIMIT_KIB, (
        f"a repo ValidatingAdmissionPolicy doubling a string through {STEPS} variables took reconcile --once to "
        f"{own_kib / 1024:.0f} MiB, past the reconciler Pod's 256Mi: {log[-300:]}")
