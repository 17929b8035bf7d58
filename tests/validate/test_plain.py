from pathlib import Path

from handoff.manifests.model import RenderedObject
from handoff.render import render_path
from handoff.report.model import Severity
from tests.validate.helpers import DEPLOYMENT, check, where, write_tree


def test_typo_field_fails_in_strict_mode_at_its_line_and_column(tmp_path: Path) -> None:
    typo = DEPLOYMENT.replace("  replicas: 2", "  replicsa: 2")
    write_tree(tmp_path, {"apps/web.yaml": typo})
    report = check(tmp_path)
    assert report.failed()
    assert where(report.findings) == [("apps/web.yaml", 8, 3, "spec.replicsa", "schema/unknown-field")]
    finding = report.findings[0]
    assert finding.severity is Severity.ERROR
    assert finding.object is not None and str(finding.object) == "Deployment/web"
    assert report.summary() == "1 object in 1 file: 0 valid, 1 invalid, 0 skipped"


def test_every_error_of_an_object_is_reported_with_its_position(tmp_path: Path) -> None:
    bad = (DEPLOYMENT.replace("replicas: 2", "replicas: two")
           .replace("          image: nginx:1.27\n", "          image: nginx:1.27\n          imagePullPolcy: Always\n"))
    write_tree(tmp_path, {"web.yaml": bad})
    found = where(check(tmp_path).findings)
    assert ("web.yaml", 8, 3, "spec.replicas", "schema") in found
    assert ("web.yaml", 20, 11, "spec.template.spec.containers[0].imagePullPolcy", "schema/unknown-field") in found


def test_valid_multi_document_file_and_list_kind(tmp_path: Path) -> None:
    service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n    - port: 80\n"
    listing = ("apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n"
               "    metadata:\n      name: a\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n"
               "      name: b\n    data:\n      bad: 1\n")
    write_tree(tmp_path, {"all.yaml": DEPLOYMENT + "---\n" + service, "list.yaml": listing})
    report = check(tmp_path)
    assert report.summary() == "4 objects in 2 files: 3 valid, 1 invalid, 0 skipped"
    # the List item's error points into the item inside list.yaml
    assert where(report.findings) == [("list.yaml", 13, 7, "data.bad", "schema")]
    rendered = render_path(tmp_path / "all.yaml", repo=tmp_path)
    assert [o.line for o in rendered.objects] == [1, 23]


def test_malformed_yaml_is_an_error_naming_the_line(tmp_path: Path) -> None:
    write_tree(tmp_path, {"ok.yaml": DEPLOYMENT, "broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n"})
    report = check(tmp_path)
    assert report.failed()
    (finding,) = [f for f in report.findings if f.rule == "yaml"]
    assert finding.file == "broken.yaml"
    assert finding.line >= 4
    assert "malformed YAML" in finding.message


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    write_tree(tmp_path, {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n"})
    assert where(check(tmp_path).findings) == [("cm.yaml", 5, 3, "", "yaml/duplicate-key")]


def test_removed_api_names_its_replacement(tmp_path: Path) -> None:
    old = DEPLOYMENT.replace("apps/v1", "extensions/v1beta1")
    write_tree(tmp_path, {"old.yaml": old})
    (finding,) = check(tmp_path).findings
    assert finding.rule == "schema/removed-api"
    assert (finding.line, finding.column, finding.path) == (1, 1, "apiVersion")
    assert "removed in Kubernetes 1.16" in finding.message and "apps/v1" in finding.message


def test_kubernetes_version_selects_the_schema_set(tmp_path: Path) -> None:
    flow = ("apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata:\n  name: f\n"
            "spec:\n  priorityLevelConfiguration:\n    name: global-default\n")
    write_tree(tmp_path, {"flow.yaml": flow})
    assert not check(tmp_path, kubernetes_version="1.28").failed()
    (finding,) = check(tmp_path, kubernetes_version="1.37").findings
    assert finding.rule == "schema/removed-api" and "1.32" in finding.message


def test_unknown_kind_is_an_error_unless_missing_schemas_are_ignored(tmp_path: Path) -> None:
    write_tree(tmp_path, {"x.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"})
    assert [f.rule for f in check(tmp_path).findings] == ["schema/missing"]
    report = check(tmp_path, ignore_missing_schemas=True)
    assert not report.failed()
    assert report.summary() == "1 object in 1 file: 0 valid, 0 invalid, 1 skipped"


def test_objects_of_one_identity_share_one_ref_instance() -> None:
    """Reports match findings to objects by ref; one instance per identity keeps that an identity
    check instead of a field-by-field comparison."""
    first = RenderedObject(obj={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, file="a", line=1)
    again = RenderedObject(obj={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, file="b", line=9)
    other = RenderedObject(obj={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}, file="a", line=1)
    assert first.ref is again.ref and first.ref == again.ref
    assert other.ref != first.ref and str(first.ref) == "ConfigMap/a"
