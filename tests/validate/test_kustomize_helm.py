from pathlib import Path

from handoff.render import check_determinism, render_path
from handoff.toolrun import find_tool
from tests.harness.tools import require_tool
from tests.validate.helpers import DEPLOYMENT, check, where, write_tree


def _need_kustomize() -> None:
    if find_tool("kustomize") is None and find_tool("kubectl") is None:
        require_tool("kustomize")


def _kustomize_tree(root: Path, deployment: str) -> Path:
    return write_tree(root, {
        "base/kustomization.yaml": "resources:\n  - deployment.yaml\n  - service.yaml\n",
        "base/deployment.yaml": deployment,
        "base/service.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n    - port: 80\n",
        "overlays/prod/kustomization.yaml": (
            "namePrefix: prod-\nnameSuffix: -v2\nnamespace: prod\nresources:\n  - ../../base\n"
            "patches:\n  - patch: |-\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata:\n"
            "        name: web\n      spec:\n        replicas: 5\n"),
    })


def test_kustomize_findings_point_back_at_the_resource_file(tmp_path: Path) -> None:
    _need_kustomize()
    typo = DEPLOYMENT.replace("          image: nginx:1.27\n", "          image: nginx:1.27\n          imagePullPolcy: Always\n")
    _kustomize_tree(tmp_path, typo)
    report = check(tmp_path, "overlays/prod")
    assert where(report.findings) == [
        ("base/deployment.yaml", 20, 11, "spec.template.spec.containers[0].imagePullPolcy", "schema/unknown-field")]
    finding = report.findings[0]
    assert str(finding.object) == "Deployment/prod/prod-web-v2"
    assert report.summary() == "2 objects in 2 files: 1 valid, 1 invalid, 0 skipped"


def test_kustomize_render_maps_every_object_to_its_source_line(tmp_path: Path) -> None:
    _need_kustomize()
    _kustomize_tree(tmp_path, DEPLOYMENT)
    rendered = render_path(tmp_path / "overlays/prod", repo=tmp_path)
    assert sorted((o.file, o.line, str(o.ref)) for o in rendered.objects) == [
        ("base/deployment.yaml", 1, "Deployment/prod/prod-web-v2"),
        ("base/service.yaml", 1, "Service/prod/prod-web-v2"),
    ]
    deployment = next(o for o in rendered.objects if o.ref.kind == "Deployment")
    assert deployment.obj["spec"]["replicas"] == 5  # the patched value is what gets validated
    assert deployment.locate("spec.template.spec.containers[0].image") == (19, 11)


CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
    "chart/values.yaml": "replicas: 2\n",
    "chart/templates/deployment.yaml": DEPLOYMENT.replace("replicas: 2", "replicas: {{ .Values.replicas }}")
    .replace("  name: web\n", "  name: {{ .Release.Name }}-web\n", 1)
    .replace("          ports:", "          prots:"),
    "chart/templates/secret.yaml": (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-token\n"
        "stringData:\n  token: {{ randAlphaNum 16 | quote }}\n"),
}


def test_helm_findings_point_at_the_template(tmp_path: Path) -> None:
    require_tool("helm")
    write_tree(tmp_path, CHART)
    report = check(tmp_path, "chart")
    (finding,) = report.findings
    assert finding.file == "chart/templates/deployment.yaml"
    assert (finding.line, finding.column) == (20, 11)  # the typo'd key's own line in the template
    assert finding.path == "spec.template.spec.containers[0].prots"
    assert str(finding.object) == "Deployment/release-web"


def test_determinism_check_flags_random_helm_output(tmp_path: Path) -> None:
    require_tool("helm")
    write_tree(tmp_path, CHART)
    findings = check_determinism(lambda: render_path(tmp_path / "chart", repo=tmp_path))
    assert [(f.file, f.path, str(f.object)) for f in findings] == [
        ("chart/templates/secret.yaml", "stringData.token", "Secret/release-token")]


def test_determinism_check_passes_stable_kustomize_output(tmp_path: Path) -> None:
    _need_kustomize()
    _kustomize_tree(tmp_path, DEPLOYMENT)
    assert check_determinism(lambda: render_path(tmp_path / "overlays/prod", repo=tmp_path)) == ()


def test_generated_objects_point_at_their_generator_entry(tmp_path: Path) -> None:
    _need_kustomize()
    _kustomize_tree(tmp_path, DEPLOYMENT)
    (tmp_path / "base/kustomization.yaml").write_text(
        "resources:\n  - deployment.yaml\n  - service.yaml\n"
        "configMapGenerator:\n  - name: settings\n    literals:\n      - MODE=prod\n"
        "secretGenerator:\n  - name: creds\n    literals:\n      - token=x\n")
    rendered = render_path(tmp_path / "overlays/prod", repo=tmp_path)
    generated = sorted((o.file, o.line, o.ref.kind, o.ref.name) for o in rendered.objects
                       if o.ref.kind in ("ConfigMap", "Secret"))
    assert [(file, line, kind) for file, line, kind, _ in generated] == [
        ("base/kustomization.yaml", 5, "ConfigMap"), ("base/kustomization.yaml", 9, "Secret")]
    assert all(name.startswith("prod-") for *_, name in generated)  # hashed, prefixed names still match


IMAGE_CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
    "chart/values.yaml": "image:\n  repository: nginx\n  tag: '1.25'\nsidecar: busybox:1.36\nreplicas: 1\n",
    "chart/templates/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector: {}\n"
        "  template:\n    spec:\n      containers:\n"
        "        {{- range $i, $n := list \"a\" \"b\" }}\n"
        "        - name: {{ $n }}\n          image: \"{{ $.Values.image.repository }}:{{ $.Values.image.tag }}\"\n"
        "        {{- end }}\n"
        "        - name: sidecar\n          image: {{ .Values.sidecar }}\n"
        "          resources:\n            {{- toYaml .Values.resources | nindent 12 }}\n"),
    "envs/prod/values.yaml": "# prod\nimage:\n  tag: '1.27'\n",
}


def test_helm_images_point_at_the_values_line_that_set_them(tmp_path: Path) -> None:
    require_tool("helm")
    write_tree(tmp_path, IMAGE_CHART)
    rendered = render_path(tmp_path / "chart", repo=tmp_path, values=[tmp_path / "envs/prod/values.yaml"])
    (deployment,) = rendered.objects
    assert (deployment.file, deployment.line) == ("chart/templates/deployment.yaml", 2)
    # repository + tag: the tag the env's values file overrides, where a bump would edit it
    assert deployment.where("spec.template.spec.containers[1].image") == ("envs/prod/values.yaml", 3, 3)
    assert deployment.where("spec.template.spec.containers[2].image") == ("chart/values.yaml", 4, 1)
    # keys in a range loop are found without their index; keys toYaml made fall back to the parent
    assert deployment.where("spec.template.spec.containers[0].name") == ("chart/templates/deployment.yaml", 11, 11)
    assert deployment.where("spec.template.spec.containers[2].resources.limits") == (
        "chart/templates/deployment.yaml", 16, 11)
