import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from handoff.cli import main
from tests.validate.helpers import DEPLOYMENT, write_tree

TYPO = DEPLOYMENT.replace("  replicas: 2", "  replicsa: 2")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["validate", "--no-builtin", *argv])  # schema behaviour only; policies: tests/policy
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_tree_exits_0_with_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, {"web.yaml": DEPLOYMENT})
    code, out, _ = run(capsys, "--config-repo", str(tmp_path), str(tmp_path))
    assert code == 0
    assert out.strip().endswith("1 object in 1 file: 1 valid, 0 invalid, 0 skipped")


def test_findings_exit_1_and_text_names_file_line_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, {"web.yaml": TYPO})
    code, out, _ = run(capsys, "--config-repo", str(tmp_path), str(tmp_path / "web.yaml"))
    assert code == 1
    assert "web.yaml\n  8:3  error   schema/unknown-field" in out
    assert "\033[" not in out  # no colour when stdout is not a TTY


def test_malformed_yaml_never_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, {"bad.yaml": "kind: ConfigMap\n  name: : x\n"})
    code, out, _ = run(capsys, "--config-repo", str(tmp_path), str(tmp_path))
    assert code == 1
    assert "bad.yaml" in out and "malformed YAML" in out


def test_fail_on_warning_and_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, {"web.yaml": DEPLOYMENT})
    code, _, err = run(capsys, "--config-repo", str(tmp_path), "--kubernetes-version", "1.2", str(tmp_path))
    assert code == 2 and "no schemas for Kubernetes version '1.2'" in err
    code, _, err = run(capsys, "--config-repo", str(tmp_path), "--env", "prod")
    assert code == 2 and ".handoff.yaml" in err


def test_env_validates_what_the_environment_renders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, {
        ".handoff.yaml": "environments:\n  dev:\n    render:\n      type: plain\n      path: envs/dev\n"
                         "  prod:\n    render:\n      type: plain\n      path: envs/prod\n",
        "envs/dev/web.yaml": DEPLOYMENT,
        "envs/prod/web.yaml": TYPO,
    })
    assert run(capsys, "--config-repo", str(tmp_path), "--env", "dev")[0] == 0
    code, out, _ = run(capsys, "--config-repo", str(tmp_path), "--env", "prod", "--output", "json")
    assert code == 1
    data = json.loads(out)
    assert data["summary"]["invalid"] == 1
    (finding,) = data["findings"]
    assert (finding["file"], finding["line"], finding["column"], finding["path"], finding["severity"]) == (
        "envs/prod/web.yaml", 8, 3, "spec.replicsa", "error")


def test_output_file_junit_and_sarif(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, {"m/web.yaml": TYPO, "m/ok.yaml": DEPLOYMENT.replace("name: web\n", "name: ok\n", 1)})
    junit = tmp_path / "out" / "report.xml"
    code, out, _ = run(capsys, "--config-repo", str(tmp_path), "--output", "junit", "--output-file", str(junit),
                       str(tmp_path / "m"))
    assert code == 1 and out == ""
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failure = suite.find("testcase/failure")
    assert failure is not None and "m/web.yaml:8:3" in (failure.text or "")
    sarif_file = tmp_path / "report.sarif"
    run(capsys, "--config-repo", str(tmp_path), "--output", "sarif", "--output-file", str(sarif_file),
        str(tmp_path / "m"))
    sarif = json.loads(sarif_file.read_text())
    assert sarif["version"] == "2.1.0"
    (result,) = sarif["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "m/web.yaml"}, "region": {"startLine": 8, "startColumn": 3}}
    assert result["level"] == "error" and result["ruleId"] == "schema/unknown-field"
