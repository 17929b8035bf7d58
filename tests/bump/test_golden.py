"""Golden input/expected pairs: bumping ``before/`` must give exactly ``after/``, byte for byte."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handoff.edit.bump import bump

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "case.txt").is_file())


def read_case(root: Path) -> dict[str, str]:
    lines = (root / "case.txt").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", CASES)
def test_bump_gives_expected_bytes(case: str, tmp_path: Path) -> None:
    root = GOLDEN / case
    args = read_case(root)
    work = tmp_path / "repo"
    shutil.copytree(root / "before", work)
    result = bump(work, args["image"], env=args.get("env"))
    assert result.changed
    assert tree(work) == tree(root / "after")


@pytest.mark.parametrize("case", CASES)
def test_second_bump_changes_nothing(case: str, tmp_path: Path) -> None:
    root = GOLDEN / case
    args = read_case(root)
    work = tmp_path / "repo"
    shutil.copytree(root / "after", work)
    result = bump(work, args["image"], env=args.get("env"))
    assert not result.changed
    assert result.diff == ""
    assert tree(work) == tree(root / "after")


def test_every_case_has_expected_output() -> None:
    assert len(CASES) >= 20
    assert all((GOLDEN / c / "after").is_dir() for c in CASES)
