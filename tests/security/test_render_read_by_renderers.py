"""What helm and kustomize read besides the entries handoff already checks (atk13 F1-F5, as classes):
every ``values.schema.json`` reference of a chart tree (subcharts and archives), every values file of
that tree when an error quotes one, every rendered Secret value in a PR body, and the size and width of
every file a kustomization makes kustomize read. Real helm and kustomize; the refusals come before they
run."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from handoff.errors import RenderError
from handoff.manifests.bounds import RenderLimits
from handoff.manifests.model import RenderedObject
from handoff.manifests.sensitive import SensitiveField, rules_for
from handoff.render import render_path
from handoff.render.policy import RenderPolicy, render_policy
from handoff.workflows.propose import rendered_diff
from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools

CHART = "apiVersion: v2\nname: {name}\nversion: 0.1.0\n"
TEMPLATE = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  mode: {{{{ .Values.mode | quote }}}}\n"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _chart(root: Path, name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {f"{root}/Chart.yaml": CHART.format(name=name), f"{root}/values.yaml": "mode: hello\n",
            f"{root}/templates/cm.yaml": TEMPLATE.format(name=name), **(extra or {})}


def _tgz(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


REFUSED_REFS = ["http://127.0.0.1:9/schema.json", "https://schemas.example/x.json", "file:///etc/hostname",
                "other.json", "/etc/passwd", "../../outside.json#/x", "urn:x"]


@pytest.mark.parametrize("ref", REFUSED_REFS)
@pytest.mark.parametrize("keyword", ["$ref", "$dynamicRef"])
def test_a_schema_reference_outside_its_own_file_is_refused_before_helm(tmp_path: Path, ref: str,
                                                                      keyword: str) -> None:
    schema = {"definitions": {"m": {"type": "string"}}, "properties": {"mode": {"allOf": [{keyword: ref}]}}}
    repo = _write(tmp_path, _chart(Path("chart"), "web", {"chart/values.schema.json": json.dumps(schema)}))
    with pytest.raises(RenderError) as refused:
        render_path(repo / "chart", repo=repo)
    message = str(refused.value)
    assert message.startswith(f"chart/values.schema.json: at /properties/mode/allOf/0/{keyword}: ")
    assert repr(ref) in message and "\n" not in message


def test_an_unknown_metaschema_is_refused_and_the_known_drafts_and_fragments_render(tmp_path: Path) -> None:
    require_tool("helm")
    good = {"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"m": {"type": "string"}},
            "properties": {"mode": {"$ref": "#/definitions/m"}}}
    repo = _write(tmp_path, _chart(Path("chart"), "web", {"chart/values.schema.json": json.dumps(good)}))
    assert [o.obj["data"] for o in render_path(repo / "chart", repo=repo).objects] == [{"mode": "hello"}]
    (repo / "chart/values.schema.json").write_text(json.dumps({**good, "$schema": "http://127.0.0.1:9/meta"}))
    with pytest.raises(RenderError, match=r"at /\$schema: schema reference 'http://127.0.0.1:9/meta'"):
        render_path(repo / "chart", repo=repo)


def test_schema_references_are_refused_in_nested_subcharts_and_chart_archives(tmp_path: Path) -> None:
    bad = json.dumps({"properties": {"mode": {"$ref": "file:///etc/hostname"}}})
    files = {**_chart(Path("chart"), "web"), **_chart(Path("chart/charts/a"), "a"),
             **_chart(Path("chart/charts/a/charts/b"), "b", {"chart/charts/a/charts/b/values.schema.json": bad})}
    repo = _write(tmp_path / "dirs", files)
    with pytest.raises(RenderError, match=r"^chart/charts/a/charts/b/values\.schema\.json: at /properties"):
        render_path(repo / "chart", repo=repo)

    inner = _tgz({"c/Chart.yaml": CHART.format(name="c"), "c/values.schema.json": bad})
    outer = io.BytesIO()
    with tarfile.open(fileobj=outer, mode="w:gz") as archive:
        for name, data in (("db/Chart.yaml", CHART.format(name="db").encode()), ("db/charts/c-0.1.0.tgz", inner)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    repo = _write(tmp_path / "archives", _chart(Path("chart"), "web"))
    (repo / "chart/charts").mkdir()
    (repo / "chart/charts/db-0.1.0.tgz").write_bytes(outer.getvalue())
    with pytest.raises(RenderError, match=r"^chart/charts/db-0\.1\.0\.tgz:db/charts/c-0\.1\.0\.tgz:"
                                          r"c/values\.schema\.json: at /properties/mode/\$ref"):
        render_path(repo / "chart", repo=repo)


FAILING = ("{{- fail (printf \"password %s is too short\" .Values.password) }}\n"
           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")


def test_a_value_of_any_subchart_or_archived_subchart_quoted_by_fail_is_masked(tmp_path: Path) -> None:
    require_tool("helm")
    deep = "DeepSubchart-Default-0a1b2c"
    files = {**_chart(Path("chart"), "web"), **_chart(Path("chart/charts/a"), "a"),
             "chart/charts/a/charts/b/Chart.yaml": CHART.format(name="b"),
             "chart/charts/a/charts/b/values.yaml": f"password: {deep}\n",
             "chart/charts/a/charts/b/templates/fail.yaml": FAILING}
    repo = _write(tmp_path / "dirs", files)
    with pytest.raises(RenderError, match="is too short") as failed:
        render_path(repo / "chart", repo=repo)
    assert deep not in str(failed.value)

    archived = "ArchivedSubchart-Default-9f8e7d"
    repo = _write(tmp_path / "archives", _chart(Path("chart"), "web"))
    (repo / "chart/charts").mkdir()
    (repo / "chart/charts/db-0.1.0.tgz").write_bytes(_tgz({
        "db/Chart.yaml": CHART.format(name="db"), "db/values.yaml": f"password: {archived}\n",
        "db/templates/fail.yaml": FAILING}))
    with pytest.raises(RenderError, match="is too short") as failed:
        render_path(repo / "chart", repo=repo)
    assert archived not in str(failed.value)


def _objects(password: str, image: str, declared: str) -> list[RenderedObject]:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                  "spec": {"template": {"spec": {"containers": [{
                      "name": "web", "image": image,
                      "env": [{"name": "DB_PASSWORD", "value": password}, {"name": "API", "value": declared}]}]}}}}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": password}}
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"token": declared}}
    return [RenderedObject(obj=o, file="x.yaml", line=1) for o in (deployment, secret, config)]


def test_the_rendered_diff_never_shows_a_sensitive_value_rendered_in_another_field() -> None:
    rules = rules_for([SensitiveField("ConfigMap", "data.token")])
    password, declared = "Pl4in-Secret-Value-77", "declared-token-value-42"
    diff = rendered_diff(_objects(password, "web:1.0", declared), _objects(password, "web:1.1", declared), "dev",
                         rules)
    assert "+" in diff and "web:1.1" in diff
    assert password not in diff and declared not in diff
    assert "<secret sha256:" in diff


def _kustomization(root: Path, resource: str, extra: str = "") -> Path:
    return _write(root, {"app/kustomization.yaml": f"resources: [cm.yaml]\n{extra}", "app/cm.yaml": resource})


def _configmap(data: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dense\ndata:{data}"


@pytest.mark.parametrize(("shape", "where"), [
    ("".join(f"\n  k{i}: a" for i in range(10_001)) + "\n", "5: at data"),
    (" {" + ", ".join(f"k{i}: a" for i in range(10_001)) + "}\n", "5: at data"),
    ("\n  list: [" + ", ".join("a" for _ in range(10_001)) + "]\n", "6: at data.list"),
], ids=["block", "flow", "list"])
def test_a_kustomize_resource_wider_than_the_cap_is_refused_before_kustomize(tmp_path: Path, shape: str,
                                                                            where: str) -> None:
    repo = _kustomization(tmp_path, _configmap(shape))
    with pytest.raises(RenderError) as refused:
        render_path(repo / "app", repo=repo)
    assert str(refused.value).startswith(f"app/cm.yaml:{where}: 10001 entries in one mapping or list")


def test_every_file_kustomize_reads_counts_against_the_render_caps(tmp_path: Path) -> None:
    require_tool("kustomize")
    files = {"app/kustomization.yaml": ("resources: [base]\npatches:\n  - path: patch.yaml\n"
                                        "configMapGenerator:\n  - name: g\n    files: [data.txt]\n"),
             "app/base/kustomization.yaml": "resources: [cm.yaml]\n",
             "app/base/cm.yaml": _configmap("".join(f"\n  k{i}: a" for i in range(2000)) + "\n"),
             "app/patch.yaml": _configmap("\n  extra: b\n"),
             "app/data.txt": "x" * 50_000}
    repo = _write(tmp_path, files)
    assert len(render_path(repo / "app", repo=repo).objects) == 2  # under the default caps it renders
    with render_policy(RenderPolicy(limits=RenderLimits(max_nodes=5000))), \
            pytest.raises(RenderError, match=r"^render over the 5000-node YAML budget at app/base/cm\.yaml"):
        render_path(repo / "app", repo=repo)
    with render_policy(RenderPolicy(limits=RenderLimits(max_total_bytes=60_000))), \
            pytest.raises(RenderError, match=r"^app/data\.txt: kustomize inputs over the 60000-byte"):
        render_path(repo / "app", repo=repo)


def test_a_kustomization_wider_than_the_cap_itself_or_in_an_inline_patch_is_refused(tmp_path: Path) -> None:
    literals = "".join(f"\n      - k{i}=a" for i in range(10_001))
    repo = _write(tmp_path / "literals", {
        "app/kustomization.yaml": f"configMapGenerator:\n  - name: g\n    literals:{literals}\n"})
    with pytest.raises(RenderError, match=r"^app/kustomization\.yaml:3: at configMapGenerator\[0\]\.literals: "
                                          r"10001 entries"):
        render_path(repo / "app", repo=repo)

    patch = "".join(f"\n        k{i}: a" for i in range(10_001))
    repo = _write(tmp_path / "inline", {
        "app/kustomization.yaml": ("resources: [cm.yaml]\npatches:\n  - patch: |\n      apiVersion: v1\n"
                                   f"      kind: ConfigMap\n      metadata: {{name: dense}}\n      data:{patch}\n"),
        "app/cm.yaml": _configmap("\n  a: b\n")})
    with pytest.raises(RenderError, match=r"^app/kustomization\.yaml:3: at patches\[0\]\.patch: data: 10001 entries"):
        render_path(repo / "app", repo=repo)
