"""f13g: the guards behind the atk13g fixes, each at its edge (the attacks themselves: test_atk13g_*)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from handoff.errors import RenderError
from handoff.manifests.sensitive import composed_parts
from handoff.reconciler.drift import Drift, DriftedField
from handoff.reconciler.masking import masked_result
from handoff.reconciler.status import SUCCEEDED, PassResult
from handoff.render.chart_files import MAX_ARCHIVE_NESTING, MAX_MEMBER_BYTES, chart_files
from handoff.render.kustomize_fields import refuse_case_variants
from handoff.render.tar_headers import go_tar_members
from handoff.report.model import ObjectRef


def test_a_case_variant_kustomize_key_is_refused_naming_file_line_and_key() -> None:
    spec = {"resources": ["cm.yaml"], "configMapGenerator": [{"name": "s", "Files": ["cfg=x"]}]}
    with pytest.raises(RenderError) as e:
        refuse_case_variants(spec, "app/kustomization.yaml", {"configMapGenerator[0].Files": (4, 3)})
    message = str(e.value)
    assert "\n" not in message and "app/kustomization.yaml:4" in message
    assert "configMapGenerator[0].Files" in message and "'files'" in message


def test_free_form_keys_and_both_fieldpath_spellings_are_accepted() -> None:
    spec = {"commonLabels": {"Name": "web", "PATH": "x"}, "metadata": {"annotations": {"Files": "y"}},
            "labels": [{"pairs": {"Resources": "z"}, "includeSelectors": True}],
            "helmCharts": [{"name": "c", "valuesInline": {"Name": "v", "Resources": {"limits": {}}}}],
            "replacements": [{"source": {"kind": "ConfigMap", "fieldPath": "data.a"}}],
            "vars": [{"name": "V", "objref": {"kind": "Service", "name": "s"}, "fieldref": {"fieldpath": "x"}}]}
    refuse_case_variants(spec, "kustomization.yaml", {})


def _tar(entries: list[tuple[str, bytes]], *, gz: bool = True) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gz else "w", format=tarfile.GNU_FORMAT) as archive:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_the_go_reader_names_long_and_prefixed_members_as_tarfile_does_for_plain_archives() -> None:
    long_name = "sub/" + "d" * 120 + "/values.schema.json"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name in ("sub/Chart.yaml", "a" * 90 + "/" + "b" * 60):  # the second needs the ustar prefix
            info = tarfile.TarInfo(name)
            archive.addfile(info, io.BytesIO(b""))
    names = [m.name for m in go_tar_members(io.BytesIO(raw.getvalue()), "x.tgz")]
    assert names == ["sub/Chart.yaml", "a" * 90 + "/" + "b" * 60]
    gnu = _tar([(long_name, b"{}")], gz=False)
    read = [(m.name, m.read()) for m in go_tar_members(io.BytesIO(gnu), "x.tgz")]  # data read in turn
    assert read == [(long_name, b"{}")]


def _chart(root: Path, archive: bytes) -> Path:
    chart = root / "chart"
    (chart / "charts").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: top\nversion: 0.1.0\n")
    (chart / "charts" / "sub-0.1.0.tgz").write_bytes(archive)
    return chart


def test_a_chart_archive_member_over_helms_file_limit_is_refused_naming_it(tmp_path: Path) -> None:
    big = _tar([("sub/Chart.yaml", b"name: sub\n"), ("sub/charts/inner-0.1.0.tgz", bytes(MAX_MEMBER_BYTES + 1))])
    chart = _chart(tmp_path, big)
    with pytest.raises(RenderError) as e:
        list(chart_files(chart, "values.schema.json", tmp_path))
    assert "sub/charts/inner-0.1.0.tgz" in str(e.value) and str(MAX_MEMBER_BYTES) in str(e.value)


def test_chart_archives_nested_too_deep_are_refused_and_shallow_ones_read(tmp_path: Path) -> None:
    def nested(levels: int) -> bytes:
        data = _tar([("sub/Chart.yaml", b"name: sub\n"), ("sub/values.schema.json", b"{}")])
        for _ in range(levels - 1):
            data = _tar([("sub/Chart.yaml", b"name: sub\n"), ("sub/charts/sub-0.1.0.tgz", data)])
        return data
    shallow = _chart(tmp_path / "ok", nested(MAX_ARCHIVE_NESTING))
    assert len(list(chart_files(shallow, "values.schema.json", tmp_path / "ok"))) == 1
    deep = _chart(tmp_path / "deep", nested(MAX_ARCHIVE_NESTING + 1))
    with pytest.raises(RenderError, match="nested over"):
        list(chart_files(deep, "values.schema.json", tmp_path / "deep"))


def test_a_pass_result_is_masked_in_every_identity_it_carries() -> None:
    value = "s3cretvalue-f13g"
    ref = ObjectRef("v1", "ConfigMap", f"cfg-{value}", "team")
    result = PassResult(source="s", result=SUCCEEDED, message=f"applied {ref}", pruned=(ref,),
                        prune_kept=((ref, f"kept {value}"),), waivers=(f"w {value}",),
                        drift=(Drift(ref, (DriftedField(f"data.{value}", "intruder", value, "a"),)),))
    masked = masked_result(result, {value: "<secret>"})
    assert value not in repr(masked)
    assert masked.pruned[0].name == "cfg-<secret>" and masked.drift[0].fields[0].path == "data.<secret>"
    assert masked_result(result, {}) is result


def test_values_scalars_inside_a_secret_value_are_masked_but_public_ones_stay() -> None:
    secrets = {"postgres://web:Pg-f13g-passw0rd@db:5432/app": "<dsn>", "registry.example/web:1.1.0": "<img>"}
    values = [("envs/dev/values.yaml", "image: registry.example/web:1.1.0\ndbPassword: Pg-f13g-passw0rd\n"
                                       "short: web\nother: not-in-any-secret\n")]
    found = composed_parts(values, secrets, public=("registry.example/web:1.1.0",))
    assert found == {"Pg-f13g-passw0rd": "<dsn>"}
