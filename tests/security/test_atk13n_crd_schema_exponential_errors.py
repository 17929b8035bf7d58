"""atk13n: a CRD's ``openAPIV3Schema`` whose ``anyOf`` branches refer back to the same local definition makes
handoff's *own* process spend time exponential in the custom resource's nesting depth collecting errors.

Attack. The F1 fix (atk13m) made every retrieval fail, but a schema may still refer to *itself*
(``$ref: "#/$defs/a"``, or ``#/properties/...``), which is legal and compiles. A CRD in the render whose
definition ``a`` is ``{type: object, required: [x], properties: {x: {anyOf: [{$ref: a}, {$ref: a}]}}}`` and
a Widget whose ``spec`` is ``{x: {x: … {}}}`` nested 22 deep (both files under 2 KB, far under every YAML
cap: depth 100, node budget 10**6) is invalid only at the innermost ``{}``. ``is_valid`` short-circuits and
returns quickly, but ``check_object`` then calls ``validator.iter_errors(obj)``, which explores both
branches of every ``anyOf`` at every level: 2**depth evaluations.

Observed (jsonschema_rs 0.61, directly): depth 10: 0.02 s, 14: 0.57 s, 18: 17.9 s (×~2.4 per level);
``handoff validate`` on depth 22 does not finish within the 60 s this test allows (extrapolated ~10 min;
depth 30 is days). The reconciler's ``plan_source`` runs the same built-in engine in its own process (not a
fenced, memory- and time-capped child), so one commit of two small files stalls every pass of the reconciler.

Responsible: ``handoff/validate/builtin.py`` ``check_object`` (``iter_errors`` on a schema from repository
content, unbounded), fed by ``handoff/validate/crds.py`` ``CrdIndex`` (no bound on self-references /
``anyOf`` fan-out of a CRD schema).

What should hold: validating repository content is bounded in time: a schema from the repo whose error
collection would exceed a budget (evaluation steps, errors, or wall time) yields one finding (e.g.
``schema/unusable`` or a ``schema`` finding without the full error set) in seconds.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.reconciler.cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.xfail(strict=True, reason="open (issue 13, atk13n 1: iter_errors on a self-referencing CRD schema is exponential in nesting)")]

DEPTH = 22

CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
          $defs:
            a:
              type: object
              required: [x]
              properties:
                x:
                  anyOf:
                    - $ref: "#/$defs/a"
                    - $ref: "#/$defs/a"
          properties:
            spec:
              $ref: "#/$defs/a"
"""


def _widget(depth: int) -> str:
    spec = "{}"
    for _ in range(depth):
        spec = "{x: " + spec + "}"
    return f"apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\nspec: {spec}\n"


def _repo(root: Path, depth: int) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "crd.yaml").write_text(CRD, encoding="utf-8")
    (root / "app" / "widget.yaml").write_text(_widget(depth), encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def _validate(repo: Path, timeout: float) -> tuple[float, subprocess.CompletedProcess[str] | None]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "TMPDIR": str(repo.parent)}
    start = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo),
                               str(repo / "app")], capture_output=True, text=True, timeout=timeout,
                              check=False, cwd=repo, env=env)
    except subprocess.TimeoutExpired:
        return time.monotonic() - start, None
    return time.monotonic() - start, done


def test_a_self_referencing_crd_schema_does_not_make_validate_exponential(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", DEPTH)
    assert (repo / "app" / "crd.yaml").stat().st_size + (repo / "app" / "widget.yaml").stat().st_size < 2048
    took, done = _validate(repo, timeout=60)
    assert done is not None, (
        f"handoff validate on a 2 KB repo (a CRD whose anyOf refers back to itself, a Widget nested {DEPTH} "
        f"deep) did not finish in {took:.0f} s: iter_errors explores 2**{DEPTH} branches in handoff's own process")
    assert "Widget" in done.stdout + done.stderr


def _reconcile_in_child(cluster: object) -> None:
    rec = cluster.reconciler()  # type: ignore[attr-defined]
    rec.reconcile(rec.settings.sources[0])


def test_a_self_referencing_crd_schema_does_not_stall_a_reconciler_pass(apiserver: object, git_server: object,
                                                                        tmp_path: Path) -> None:
    """The same revision, one ``reconcile`` pass (``plan_source``, the built-in engine in the reconciler's own
    process), in a forked child killed after 90 s."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/crd.yaml": CRD, "app/widget.yaml": _widget(DEPTH)})
    child = multiprocessing.get_context("fork").Process(target=_reconcile_in_child, args=(c,))
    start = time.monotonic()
    child.start()
    child.join(90)
    stalled = child.is_alive()
    if stalled:
        child.kill()
        child.join()
    assert not stalled, (f"one reconciler pass over a 2 KB revision (a CRD whose anyOf refers back to itself, a "
                         f"Widget nested {DEPTH} deep) did not finish in {time.monotonic() - start:.0f} s")
