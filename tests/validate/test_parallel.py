"""Big plain trees are parsed and schema-checked by worker processes; the report must be exactly the
one a single process gives (same verdicts, findings, positions and order)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from handoff.cli import main
from handoff.errors import UsageError
from handoff.manifests.model import RenderedObject
from handoff.manifests.plain import objects_from_text
from handoff.policy.runner import PolicyCheck, PolicyOptions
from handoff.report.model import Finding, Severity, ValidationReport
from handoff.validate import SchemaOptions
from handoff.validate.parallel import (
    PARALLEL_FROM_FILES,
    SPLIT_FROM_BYTES,
    _extra_checks,
    _Piece,
    free_cores,
    validate_plain_paths,
    work_units,
    worker_count,
)
from tests.harness.paths import CORPUS
from tests.validate.helpers import DEPLOYMENT, write_tree

WIDGET_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
"""

# problems of every kind, spread so that the CRD and its custom resources land in different chunks
PROBLEMS = {
    "aaa/widget.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: big\n",
    "aaa/widget-ok.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: ok\nspec:\n  size: 3\n",
    "mmm/typo.yaml": DEPLOYMENT.replace("replicas: 2", "replicsa: 2"),
    "mmm/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: [unclosed\n",
    "mmm/dup.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\n  name: e\n",
    "mmm/list.yaml": ("apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n"
                      "    metadata: {name: a}\n    dta: {}\n  - apiVersion: v1\n    kind: Service\n"
                      "    metadata: {name: b}\n"),
    "mmm/removed.yaml": "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: old\n",
    "mmm/unknown.yaml": "apiVersion: nowhere.io/v1\nkind: Gizmo\nmetadata:\n  name: g\n",
    "mmm/nokind.yaml": "metadata:\n  name: nothing\n---\n- just a list\n",
    "zzz/crd.yaml": WIDGET_CRD,
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    if not (CORPUS / "manifests").is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    root = tmp_path / "tree"
    for copy in range(3):
        shutil.copytree(CORPUS / "manifests", root / f"copy{copy}")
    write_tree(root, PROBLEMS)
    return root


def _report(tree: Path, jobs: int) -> ValidationReport:
    return validate_plain_paths([tree], repo=tree, options=SchemaOptions(), jobs=jobs)


def test_workers_give_the_single_process_report(tree: Path) -> None:
    files = sum(1 for _ in tree.rglob("*.y*ml"))
    assert worker_count(files, 2) == 2 and worker_count(files, 3) == 3  # really parallel below
    single = _report(tree, 1)
    assert _report(tree, 2) == single
    assert _report(tree, 3) == single
    rules = {f.rule for f in single.findings}
    assert {"schema", "schema/unknown-field", "yaml", "yaml/duplicate-key", "schema/removed-api",
            "schema/missing", "schema/missing-kind", "yaml/not-an-object"} <= rules
    # the custom resource is checked against the CRD from another chunk, at its own line
    widget = [(f.file, f.line, f.path) for f in single.findings if f.file == "aaa/widget.yaml"]
    assert widget == [("aaa/widget.yaml", 6, "spec.size")]
    statuses = {o.file: o.status for o in single.objects if o.file.startswith("aaa/")}
    assert statuses == {"aaa/widget.yaml": "invalid", "aaa/widget-ok.yaml": "valid"}


@pytest.mark.parametrize("policies", [["--no-builtin"], []], ids=["schemas", "schemas+policies"])
def test_cli_jobs_flag_gives_the_same_json_report(tree: Path, tmp_path: Path, policies: list[str]) -> None:
    # a policy finding and an annotation waiver, so both travel back from the workers
    write_tree(tree, {"mmm/latest.yaml": DEPLOYMENT.replace("nginx:1.27", "nginx:latest").replace(
        "  name: web\n", "  name: latest\n  annotations:\n    handoff.dev/waive: disallow-latest-tag=demo\n", 1)})
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"r{jobs}.json"
        code = main(["validate", *policies, "--config-repo", str(tree), "--output", "json",
                     "--output-file", str(out), "--jobs", jobs, str(tree)])
        assert code == 1
        outputs.append(json.loads(out.read_text(encoding="utf-8")))
    assert outputs[0] == outputs[1]
    assert outputs[0]["summary"]["invalid"] > 0
    engines = {f["engine"] for f in outputs[0]["findings"]}
    assert ("cel" in engines) == (not policies)
    assert bool(outputs[0]["waivers"]) == (not policies)


def test_small_trees_stay_in_one_process_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HANDOFF_PARSE_WORKERS", raising=False)
    assert worker_count(10, None) == 1
    assert worker_count(10, 2) == 2
    monkeypatch.setenv("HANDOFF_PARSE_WORKERS", "2")
    assert worker_count(10, None) == 2
    monkeypatch.setenv("HANDOFF_PARSE_WORKERS", "many")
    with pytest.raises(UsageError, match="HANDOFF_PARSE_WORKERS"):
        worker_count(10, None)


def test_workers_run_the_builtin_policies_with_the_same_report(tree: Path) -> None:
    check = PolicyCheck(PolicyOptions())
    assert check.per_object  # the built-in pack looks at one object at a time
    single = validate_plain_paths([tree], repo=tree, options=SchemaOptions(), jobs=1, per_object_check=check)
    assert validate_plain_paths([tree], repo=tree, options=SchemaOptions(), jobs=2,
                                per_object_check=check) == single
    assert any(f.engine == "cel" for f in single.findings)


def test_auto_workers_are_the_cores_left_free_by_the_load() -> None:
    """Workers cost CPU of their own, so auto uses only the cores the load average leaves idle, and
    always at least one process."""
    assert free_cores(2, 0.0) == 2 and free_cores(2, 0.9) == 2
    assert free_cores(2, 1.2) == 1 and free_cores(2, 7.5) == 1
    assert free_cores(8, 3.0) == 5 and free_cores(1, 0.0) == 1


def test_policies_send_smaller_inputs_to_workers() -> None:
    """A per-object check (the built-in pack) about doubles each object's CPU, so auto forks workers for
    a third of the input it needs schema-only: a 0.7 MB rendered stream (3,000 small objects, as a
    ``kustomize build`` of one environment) is worth both cores with the pack, not without."""
    rendered = 740_000
    assert work_units([rendered], checked=False, stream=True) < PARALLEL_FROM_FILES
    assert work_units([rendered], checked=True, stream=True) >= PARALLEL_FROM_FILES
    # files under the split size are one file's work each, whatever their size
    assert work_units([10, 200_000], checked=False) == 2
    assert work_units([10, 200_000], checked=True) == 6
    assert work_units([SPLIT_FROM_BYTES], checked=False) == SPLIT_FROM_BYTES // 4096


def test_the_policy_check_runs_once_per_run_of_files_and_once_per_shifted_span() -> None:
    """Thousands of small files cost one policy call per chunk, not one each; a span further down a
    stream is checked on its own, its findings moved to the stream's lines."""
    calls: list[int] = []

    def one_finding_per_object(objects: Sequence[RenderedObject]) -> ValidationReport:
        calls.append(len(objects))
        return ValidationReport(findings=tuple(
            Finding(rule="r", severity=Severity.ERROR, message="m", file=o.file, line=o.line, object=o.ref)
            for o in objects))

    def rendered(file: str, line: int) -> tuple[RenderedObject, ...]:
        comments = "#\n" * (line - 1)
        [obj] = objects_from_text(comments + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", file).objects
        return (obj,)

    chunk = [_Piece("a", "a"), _Piece("b", "b"), _Piece("s", "s", (0, 10, 0)), _Piece("s", "s", (10, 20, 7)),
             _Piece("c", "c")]
    objects = [rendered("a", 1), rendered("b", 2), rendered("s", 1), rendered("s", 2), rendered("c", 1)]
    extras = _extra_checks(chunk, objects, one_finding_per_object, SchemaOptions())
    assert calls == [3, 1, 1]
    assert [[(f.file, f.line) for f in found] for found, _ in extras] == [
        [], [], [("a", 1), ("b", 2), ("s", 1)], [("s", 9)], [("c", 1)]]
