"""f13h: the guards behind the atk13h fixes, each at its edge (the attacks themselves: test_atk13h_*).

kustomize inputs: no non-ASCII key outside the free-form maps (Go folds U+017F to s, U+212A to k), no key
tagged other than ``!!str``, no value tagged other than a core tag (go-yaml decodes ``!!binary``, and a
``!!timestamp`` becomes another text). Chart archives: members placed as Helm's loader places them, numeric
fields read as Go reads them, extended headers and declared sizes capped as Go and Helm cap them. Masking:
base32 and hex forms in any case, every field of a pass result."""

from __future__ import annotations

import base64
import gzip
import io
import tarfile
from pathlib import Path

import pytest

from handoff.errors import HandoffError, RenderError
from handoff.manifests.sensitive import KnownValues, secret_strings
from handoff.reconciler.masking import masked_result, masked_text
from handoff.reconciler.status import SUCCEEDED, PassResult
from handoff.render import render_path
from handoff.render.chart_files import MAX_ARCHIVE_BYTES, chart_files, helm_archive_path
from handoff.render.tar_headers import MAX_EXTENDED_HEADER_BYTES, go_tar_members
from handoff.report.model import ObjectRef
from tests.harness.tools import require_tool

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n"


def _refusal(tmp_path: Path, files: dict[str, str]) -> str:
    for name, text in {"cm.yaml": CM, **files}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(HandoffError) as e:
        render_path(tmp_path, repo=tmp_path, kind="kustomize")
    message = str(e.value)
    assert "\n" not in message
    return message


REFUSED = {
    "kelvin sign in a kind key": ("kustomization.yaml", "resources: [cm.yaml]\n\u212aind: Kustomization\n", 2),
    "long s in a component": ("comp/kustomization.yaml",
                              "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                              "re\u017fources: [../cm.yaml]\n", 3),
    "non-ASCII key in an inline plugin config": (
        "kustomization.yaml", "resources: [cm.yaml]\ngenerators:\n- |\n  apiVersion: builtin\n"
        "  kind: ConfigMapGenerator\n  metadata: {name: x}\n  liter\u00e4ls: [a=b]\n", 3),  # the entry's line
    "binary key in a plugin config file": ("gen.yaml", "apiVersion: builtin\nkind: ConfigMapGenerator\n"
                                           "metadata: {name: x}\n!!binary ZmlsZXM=: [a=cm.yaml]\n", 4),
    "binary value with no file of that name": ("kustomization.yaml", "resources: [!!binary Y20ueWFtbA==]\n", 1),
    "timestamp value": ("kustomization.yaml", "resources: [cm.yaml, !!timestamp 2001-12-14]\n", 1),
    "local tag on a value": ("kustomization.yaml", "resources: [cm.yaml]\nnamePrefix: !mine x-\n", 2),
    "int-tagged key": ("kustomization.yaml", "resources: [cm.yaml]\n!!int 1: x\n", 2),
    "mapping used as a key": ("kustomization.yaml", "resources: [cm.yaml]\n? [a, b]\n: x\n", 2),
    "tagged key behind an alias": ("kustomization.yaml",
                                   "commonLabels: {a: &k !!binary cmVzb3VyY2Vz}\n*k : [cm.yaml]\n", 1),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_kustomize_key_or_value_kustomize_reads_otherwise_is_refused_naming_file_and_line(
        tmp_path: Path, case: str) -> None:
    file, text, line = REFUSED[case]
    files = {file: text}
    if file == "gen.yaml":
        files["kustomization.yaml"] = "resources: [cm.yaml]\ngenerators: [gen.yaml]\n"
    elif file.startswith("comp/"):
        files["kustomization.yaml"] = "resources: [cm.yaml]\ncomponents: [comp]\n"
    assert f"{file}:{line}" in _refusal(tmp_path, files)


def test_plain_and_str_tagged_keys_and_non_ascii_free_form_keys_still_render(tmp_path: Path) -> None:
    require_tool("kustomize")
    (tmp_path / "cm.yaml").write_text(CM)
    (tmp_path / "kustomization.yaml").write_text(
        "!!str resources: [!!str cm.yaml]\ncommonAnnotations: {\u00e9t\u00e9: \"\u00e9\", note: !!str 3}\n"
        "replicas: []\n", encoding="utf-8")
    result = render_path(tmp_path, repo=tmp_path, kind="kustomize")
    assert [o.obj["metadata"]["name"] for o in result.objects] == ["web"]


@pytest.mark.parametrize(("member", "inside"), [
    ("sub/values.schema.json", "values.schema.json"),
    ("sub/x\\values.schema.json", "values.schema.json"),  # a "/" stays inside a "\"-split part
    ("sub\\charts\\inner/x\\values.yaml", "charts/inner/x/values.yaml"),
    ("sub/values.schema.json/", "values.schema.json"),
    ("./sub/values.yaml", "sub/values.yaml"),
    ("sub/a/../values.yaml", "values.yaml"),
])
def test_archive_members_are_placed_in_the_chart_as_helm_places_them(member: str, inside: str) -> None:
    assert helm_archive_path(member, "x.tgz") == inside


@pytest.mark.parametrize("member", ["Chart.yaml", "sub//etc/x", "sub/../../x", "README", "sub\\c:/x"])
def test_archive_member_names_helm_refuses_the_chart_for_are_refused(member: str) -> None:
    with pytest.raises(RenderError, match="Helm refuses"):
        helm_archive_path(member, "x.tgz")


def _header(name: str, *, kind: bytes = tarfile.REGTYPE, size: int = 0, mode: int = 0o644,
            fmt: int = tarfile.USTAR_FORMAT) -> bytearray:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mode = kind, size, mode
    return bytearray(info.tobuf(fmt)[:512])


def _resum(header: bytearray) -> bytes:
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header)


def _members(*blocks: bytes) -> list[tuple[str, bool]]:
    stream = io.BytesIO(b"".join(blocks) + bytes(1024))
    return [(m.name, m.is_dir) for m in go_tar_members(stream, "x.tgz")]


@pytest.mark.parametrize("size", [b"+0000000017\0", b"0o000000017\0", b"00000001_7\0 ", b"-0000000001\0",
                                  b"\xd9\xa1\xd9\xa1\xd9\xa1\0    ", b"\xc0" + bytes(11)])
def test_a_size_field_go_would_refuse_is_refused_before_any_read(size: bytes) -> None:
    header = _header("sub/values.yaml")
    header[124:136] = size
    with pytest.raises(RenderError, match="not a readable chart archive"):
        _members(_resum(header))


@pytest.mark.parametrize("record", [b"13 size=\xc2\xb2\n", b"\xc2\xb2 path=x\n", b"11 size=-1\n"])
def test_a_pax_record_with_digits_other_than_ascii_is_a_render_error_not_a_crash(record: bytes) -> None:
    pax = _header("././@PaxHeader", kind=tarfile.XHDTYPE, size=len(record))
    with pytest.raises(RenderError, match="not a readable chart archive"):
        _members(bytes(pax), record + bytes(-len(record) % 512), bytes(_header("sub/values.yaml")))


@pytest.mark.parametrize("kind", [tarfile.XHDTYPE, tarfile.GNUTYPE_LONGNAME])
def test_an_extended_header_over_gos_limit_is_refused_before_it_is_read(kind: bytes) -> None:
    header = _header("././@LongLink", kind=kind, size=MAX_EXTENDED_HEADER_BYTES + 1, fmt=tarfile.GNU_FORMAT)
    with pytest.raises(RenderError, match=f"over Go's {MAX_EXTENDED_HEADER_BYTES}"):
        _members(bytes(header))  # no data follows: a read would have said "truncated"


def test_prefix_and_type_are_read_as_go_reads_them() -> None:
    star = _header("values.schema.json")
    star[345:348], star[508:512] = b"sub", b"tar\0"
    gnu = _header("values.yaml", fmt=tarfile.GNU_FORMAT)  # GNU magic: the prefix field is not a prefix
    gnu[345:348] = b"sub"
    legacy_dir, typed_file, dir_mode = _header("sub/a/", kind=b"\0"), _header("sub/b/"), _header("sub/c")
    dir_mode[100:108] = b"0040755\0"  # a directory's type bits in the mode field
    assert _members(_resum(star), _resum(gnu), _resum(legacy_dir), bytes(typed_file), _resum(dir_mode)) == [
        ("sub/values.schema.json", False), ("values.yaml", False), ("sub/a/", True), ("sub/b/", False),
        ("sub/c", True)]


def test_an_archive_declaring_more_than_helms_chart_limit_is_refused_before_skipping_it(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    (chart / "charts").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: top\nversion: 0.1.0\n")
    big = _header("sub/files/blob", size=MAX_ARCHIVE_BYTES + 1)  # declared only: no data follows
    (chart / "charts" / "sub-0.1.0.tgz").write_bytes(gzip.compress(bytes(big)))
    with pytest.raises(RenderError, match=str(MAX_ARCHIVE_BYTES)):
        list(chart_files(chart, "values.schema.json", tmp_path))


def test_base32_and_hex_forms_are_masked_in_any_case_and_base64_in_every_variant() -> None:
    value = "s3cret?value>f13h~"
    raw = value.encode()
    known = KnownValues(secret_strings([{"kind": "Secret", "stringData": {"password": value}}]))
    b32, b64, url = (base64.b32encode(raw).decode(), base64.b64encode(raw).decode(),
                     base64.urlsafe_b64encode(raw).decode())
    for form in (b32, b32.lower(), b32.rstrip("="), b32.lower().rstrip("="), b32.capitalize(), raw.hex(),
                 raw.hex().upper(), raw.hex().capitalize(), b64, b64.rstrip("="), url, url.rstrip("=")):
        assert form not in known.mask(f"name: cfg-{form}-x"), form
    assert known.mask("an ordinary text") == "an ordinary text"


def test_every_field_of_a_pass_result_taken_from_the_revision_is_masked() -> None:
    value = "s3cretvalue-f13h-pass"
    revision = "0123456789abcdef0123456789abcdef01234567"
    result = PassResult(source="web", result=SUCCEEDED, message="ok", attempted_revision=revision,
                        applied_revision=revision, waivers=(f"w-{value}",), disabled_policies=(value, "builtin"),
                        health={f"h-{value}": 1}, pruned=(ObjectRef("v1", "ConfigMap", f"cfg-{value}", "team"),))
    masked = masked_result(result, {value: "<secret>"})
    assert value not in repr(masked)
    assert masked.disabled_policies == ("<secret>", "builtin") and masked.waivers == ("w-<secret>",)
    assert (masked.source, masked.attempted_revision, masked.applied_revision) == ("web", revision, revision)
    assert masked_text(f"cannot release cfg-{value}", {value: "<secret>"}) == "cannot release cfg-<secret>"
