"""`propose --output json` carries the validation report, so the GitLab component's JUnit and the
Action's annotations show the proposed change's findings, not an empty suite."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from handoff.cli import main
from tests.harness.git_server import GitServer
from tests.propose.test_on_invalid import TYPO, config_repo


def test_propose_json_report_becomes_junit_failures(git_server: GitServer, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    url = config_repo(git_server, "typo", TYPO)
    assert git_server.username and git_server.password
    argv = ["propose", "--image", "registry.example/web:1.1.0", "--app", "web", "--env", "dev",
            "--config-repo", url, "--git-username", git_server.username, "--token-env", "CFG_TOKEN",
            "--on-invalid", "comment", "--output", "json"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CFG_TOKEN", git_server.password)
        assert main(argv) == 0
    result = tmp_path / "result.json"
    result.write_text(capsys.readouterr().out, encoding="utf-8")
    data = json.loads(result.read_text(encoding="utf-8"))
    assert data["validation"] == "failed"
    typo = [f for f in data["report"]["findings"] if f["rule"] == "schema/unknown-field"]
    assert [(f["file"], f["path"]) for f in typo] == [("envs/dev/web.yaml", "spec.replicsa")]

    junit = tmp_path / "junit.xml"
    assert main(["ci", "gitlab", "--result", str(result), "--dotenv", str(tmp_path / "handoff.env"),
                 "--junit", str(junit)]) == 0
    failures = [f.get("message", "") + (f.text or "") for f in ET.parse(junit).iter("failure")]
    assert any("replicsa" in text for text in failures)
