"""Both engines must reach the same verdict on every object of the corpus, and report the same
findings: each cause at the same path, line, column, rule and severity. Messages are compared where
both engines word them alike (unknown fields, missing properties, removed APIs); a type or enum error is
worded by each engine's JSON-schema library, so only its place and rule are compared."""

import shutil
from pathlib import Path

import pytest

from handoff.render import RenderResult, render_path
from handoff.report.model import Finding
from handoff.toolrun import find_tool
from handoff.validate import SchemaOptions, validate
from tests.harness.paths import CORPUS
from tests.harness.tools import require_tool
from tests.validate.helpers import where, write_tree
from tests.validate.test_kustomize_helm import CHART

INVALID_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: "3"
  selector:
    matchLabels: {app: web}
  templates:
    metadata:
      labels: {app: web}
"""

BROKEN = {
    "invalid.yaml": INVALID_DEPLOYMENT,
    "nested.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels: {tier: 1}
  owner: me
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: 3
          ports: [{containerPort: "http"}]
          resources: {limits: {cpu: [1]}}
        - name: sidecar
          image: busybox:1.36
          imagePullPolicy: Sometimes
          args: [1, two]
""",
    "root.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  k: v\nsurplus: 1\nextra: 2\n",
    "list.yaml": """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Service
    metadata:
      name: svc
    spec:
      ports: "80"
  - apiVersion: v1
    kind: Pod
    metadata:
      name: pod
    spec:
      containers:
        - image: nginx:1.27
""",
    "widget-crd.yaml": """\
apiVersion: apiextensions.k8s.io/v1
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
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size: {type: integer, minimum: 1}
                port: {x-kubernetes-int-or-string: true}
                colour: {type: string, enum: [red, blue]}
""",
    "widget.yaml": """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  size: 0
  port: [80]
  colour: green
  shape: round
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w2
spec:
  port: http
""",
}

OVERLAYS = [
    "kubernetes-sigs__kustomize__examples__multibases/dev",
    "kubernetes-sigs__kustomize__examples__multibases/production",
    "kubernetes-sigs__kustomize__examples__multibases/staging",
    "kubernetes-sigs__metrics-server__manifests/overlays/release",
    "kubernetes-sigs__metrics-server__manifests/overlays/test",
    "fluxcd__flux2-kustomize-helm-example__apps/production",
    "fluxcd__flux2-kustomize-helm-example__apps/staging",
]


SAME_WORDING = ("schema/unknown-field", "schema/required", "schema/removed-api", "schema/missing-kind")
Verdicts = list[tuple[str, str, str]]
Findings = list[tuple[str, str, int, int, str, str, str, str]]


def _verdicts(rendered: RenderResult, engine: str) -> list[tuple[str, str, str]]:
    return _outcome(rendered, engine)[0]


def _normalised(finding: Finding) -> tuple[str, str, int, int, str, str, str, str]:
    message = finding.message if finding.rule in SAME_WORDING else ""
    return (finding.file, str(finding.object), finding.line, finding.column, finding.path, finding.rule,
            str(finding.severity), message)


def _outcome(rendered: RenderResult, engine: str, *, strict: bool = True) -> tuple[Verdicts, Findings]:
    report = validate(rendered, schema_options=SchemaOptions(strict=strict), engine=engine)
    return ([(o.file, str(o.object), o.status) for o in report.objects],
            sorted(_normalised(f) for f in report.findings))


def _assert_same(rendered: RenderResult, *, strict: bool = True) -> Findings:
    builtin, kubeconform = _outcome(rendered, "builtin", strict=strict), _outcome(rendered, "kubeconform",
                                                                                  strict=strict)
    assert builtin[0] == kubeconform[0]
    assert builtin[1] == kubeconform[1]
    return builtin[1]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    shutil.copytree(CORPUS / "manifests", tmp_path / "manifests")
    shutil.copytree(CORPUS / "kustomize", tmp_path / "kustomize")
    return tmp_path


def test_engines_agree_on_every_corpus_manifest(corpus: Path) -> None:
    require_tool("kubeconform")
    rendered = render_path(corpus / "manifests", repo=corpus)
    assert len(rendered.objects) >= 50
    findings = _assert_same(rendered)
    statuses = {status for *_, status in _verdicts(rendered, "builtin")}
    assert statuses == {"valid", "invalid"}  # the corpus exercises both verdicts
    assert findings


def test_engines_agree_on_every_corpus_manifest_without_strict(corpus: Path) -> None:
    require_tool("kubeconform")
    rendered = render_path(corpus / "manifests", repo=corpus)
    findings = _assert_same(rendered, strict=False)
    assert "schema/unknown-field" not in {rule for *_, rule, _, _ in findings}


def test_kubeconform_engine_reports_each_cause_at_its_own_line(tmp_path: Path) -> None:
    require_tool("kubeconform")
    write_tree(tmp_path, {"invalid.yaml": INVALID_DEPLOYMENT})
    rendered = render_path(tmp_path / "invalid.yaml", repo=tmp_path)
    report = validate(rendered, schema_options=SchemaOptions(), engine="kubeconform")
    assert where(report.findings) == [
        ("invalid.yaml", 5, 1, "spec", "schema/required"),
        ("invalid.yaml", 6, 3, "spec.replicas", "schema"),
        ("invalid.yaml", 9, 3, "spec.templates", "schema/unknown-field"),
    ]
    assert {f.message for f in report.findings} >= {"unknown field 'templates' (strict mode)",
                                                   'spec: "template" is a required property'}


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "not-strict"])
def test_engines_report_the_same_causes_of_broken_objects(tmp_path: Path, strict: bool) -> None:
    """Types, unknown fields (root, nested, in lists), required, enums, oneOf, List items, and custom
    resources checked against a CRD of the same render."""
    require_tool("kubeconform")
    write_tree(tmp_path, BROKEN)
    rendered = render_path(tmp_path, repo=tmp_path)
    findings = _assert_same(rendered, strict=strict)
    rules = {rule for *_, rule, _, _ in findings}
    assert {"schema", "schema/required"} <= rules
    assert ("schema/unknown-field" in rules) is strict
    assert len(findings) == (18 if strict else 13)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_engines_agree_on_rendered_kustomize_trees(corpus: Path, overlay: str) -> None:
    require_tool("kubeconform")
    if find_tool("kustomize") is None and find_tool("kubectl") is None:
        require_tool("kustomize")
    rendered = render_path(corpus / "kustomize" / overlay, repo=corpus)
    assert rendered.objects
    _assert_same(rendered)


def test_engines_agree_on_a_rendered_helm_chart(tmp_path: Path) -> None:
    require_tool("kubeconform")
    require_tool("helm")

    write_tree(tmp_path, CHART)
    rendered = render_path(tmp_path / "chart", repo=tmp_path)
    _assert_same(rendered)
    assert {s for *_, s in _verdicts(rendered, "builtin")} == {"valid", "invalid"}
