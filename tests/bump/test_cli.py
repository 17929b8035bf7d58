"""`handoff bump` as users call it: exit codes, --dry-run, --output json, idempotent reruns."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from handoff.cli import main

from .helpers import snapshot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "config-repo"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "repo")
    return tmp_path / "repo"


def test_bump_writes_and_reports(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bump", "--image", "ghcr.io/acme/web:1.5.0", "--config-repo", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "charts/web/values.yaml:7: image.tag: 1.4.1 -> 1.5.0" in out
    assert "changed 5 file(s) to ghcr.io/acme/web:1.5.0" in out
    assert 'tag: "1.5.0"   # bumped by CI' in (repo / "charts/web/values.yaml").read_text()


def test_dry_run_prints_diff_and_writes_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(repo)
    assert main(["bump", "--image", "ghcr.io/acme/web:1.5.0", "--config-repo", str(repo), "--dry-run",
                 "--env", "dev"]) == 0
    out = capsys.readouterr().out
    assert "--- a/envs/dev/kustomization.yaml\n+++ b/envs/dev/kustomization.yaml\n" in out
    assert "-    newTag: 1.4.1\n+    newTag: 1.5.0\n" in out
    assert "envs/prod" not in out
    assert snapshot(repo) == before


def test_rerun_is_a_json_no_op(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bump", "--image", "ghcr.io/acme/web:1.5.0", "--config-repo", str(repo), "--output", "json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["changed"] is True and "envs/prod/kustomization.yaml" in first["files"]
    before = snapshot(repo)
    assert main(args) == 0
    second = json.loads(capsys.readouterr().out)
    assert second == {"changed": False, "dry_run": False, "image": "ghcr.io/acme/web:1.5.0", "files": [],
                      "changes": [], "diff": ""}
    assert snapshot(repo) == before


def test_bad_image_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bump", "--image", "ghcr.io/acme/web:-x", "--config-repo", str(repo)]) == 2
    assert capsys.readouterr().err.startswith("handoff: error: invalid image reference 'ghcr.io/acme/web:-x'")


def test_unknown_app_and_unmatched_image(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bump", "--image", "ghcr.io/acme/api:1", "--config-repo", str(repo)]) == 2
    assert "no app in .handoff.yaml has image 'ghcr.io/acme/api'; pass --app" in capsys.readouterr().err
    assert main(["bump", "--image", "ghcr.io/acme/web:1", "--app", "api", "--config-repo", str(repo)]) == 2
    assert "unknown app 'api' (declared: web)" in capsys.readouterr().err


def test_refused_edit_exits_1_and_writes_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "apps/worker/cronjob.yaml").write_text("kind: CronJob\nmetadata: {name: other}\n")
    before = snapshot(repo)
    assert main(["bump", "--image", "ghcr.io/acme/web:1.5.0", "--config-repo", str(repo)]) == 1
    assert "apps/worker/cronjob.yaml: at apps.web.targets[3]: no CronJob/web-cleanup container cleanup found" \
        in capsys.readouterr().err
    assert snapshot(repo) == before


def test_max_file_size_flag(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = repo / "charts/web/values.yaml"
    values.write_text(values.read_text() + "#" * 1600 + "\n")
    before = snapshot(repo)
    assert main(["bump", "--image", "ghcr.io/acme/web:1.5.0", "--config-repo", str(repo),
                 "--max-file-size", "1500"]) == 1
    assert "charts/web/values.yaml: file is 2003 bytes, over the 1500-byte limit" in capsys.readouterr().err
    assert snapshot(repo) == before
