"""Subchart archive entries are read as Helm's archive loader reads them (``pkg/chart/loader/archive.go``):
every entry that is not a directory is a file, its data taken from the archive stream whatever its tar type;
link and device entries carry no data, so they are empty files (never the link's target, which Python's
``tarfile.extractfile`` would follow)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from handoff.render.chart_files import chart_files

SCHEMA = '{"properties": {"mode": {"$ref": "http://127.0.0.1:9/s.json"}}}'


def _entry(name: str, kind: bytes, data: bytes = b"", link: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, len(data), link
    return info, data


def _chart(root: Path, entries: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    chart = root / "chart"
    (chart / "charts").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    with tarfile.open(chart / "charts" / "sub-0.1.0.tgz", "w:gz", format=tarfile.USTAR_FORMAT) as archive:
        for info, data in entries:
            archive.addfile(info, io.BytesIO(data))
    return chart


def test_an_entry_of_a_vendor_tar_type_is_read_as_a_file(tmp_path: Path) -> None:
    chart = _chart(tmp_path, [_entry("sub/values.schema.json", b"Z", SCHEMA.encode())])
    assert list(chart_files(chart, "values.schema.json", tmp_path)) == [
        ("chart/charts/sub-0.1.0.tgz:sub/values.schema.json", SCHEMA)]


def test_a_contiguous_file_entry_is_read_as_a_file(tmp_path: Path) -> None:
    chart = _chart(tmp_path, [_entry("sub/values.yaml", tarfile.CONTTYPE, b"password: x\n")])
    assert [text for _, text in chart_files(chart, "values.yaml", tmp_path)] == ["password: x\n"]


def test_link_and_device_entries_are_empty_files_not_their_targets(tmp_path: Path) -> None:
    chart = _chart(tmp_path, [
        _entry("sub/templates/real.json", tarfile.REGTYPE, SCHEMA.encode()),
        _entry("sub/values.schema.json", tarfile.LNKTYPE, link="sub/templates/real.json"),
        _entry("sub/charts/inner/values.schema.json", tarfile.SYMTYPE, link="../../templates/real.json"),
        _entry("sub/charts/other/values.schema.json", tarfile.FIFOTYPE)])
    found = dict(chart_files(chart, "values.schema.json", tmp_path))
    assert found == {"chart/charts/sub-0.1.0.tgz:sub/values.schema.json": "",
                     "chart/charts/sub-0.1.0.tgz:sub/charts/inner/values.schema.json": "",
                     "chart/charts/sub-0.1.0.tgz:sub/charts/other/values.schema.json": ""}


def test_a_directory_entry_of_the_name_is_skipped(tmp_path: Path) -> None:
    chart = _chart(tmp_path, [_entry("sub/values.yaml", tarfile.DIRTYPE)])
    assert list(chart_files(chart, "values.yaml", tmp_path)) == []
