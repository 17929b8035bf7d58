"""What CI systems read back: outputs that cannot be injected, capped annotations, a summary under
1 MiB that still accounts for every finding, a dotenv GitLab can parse, JUnit that Jenkins/GitLab accept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xmlschema

from handoff.cli import main
from handoff.errors import UsageError
from handoff.redact import register
from handoff.report import ci_outputs
from handoff.report.model import Finding, ObjectRef, ObjectResult, Severity, ValidationReport, WaiverUse
from handoff.report.proposal import ProposeResult
from handoff.report.writers import WRITERS, WriterOptions

from .gha import parse_env_file, parse_workflow_command
from .paths import SCHEMAS

DEPLOY = ObjectRef("apps/v1", "Deployment", "web", "dev")


def _finding(i: int, severity: Severity = Severity.ERROR, message: str = "bad") -> Finding:
    return Finding(rule="schema", severity=severity, message=f"{message} {i}", file="envs/dev/web.yaml",
                   line=i + 1, column=3, path="spec.replicas", object=DEPLOY)


def test_outputs_survive_newlines_and_fake_delimiters() -> None:
    hostile = "line1\nEOF\nother=injected\npr-url<<X"
    text = ci_outputs.github_outputs({"pr-url": hostile, "operation": "created"})
    assert parse_env_file(text) == {"pr-url": hostile, "operation": "created"}


def test_annotations_capped_per_type_and_rest_kept_for_summary() -> None:
    findings = [_finding(i) for i in range(25)] + [_finding(i, Severity.WARNING) for i in range(3)]
    report = ValidationReport(findings=tuple(findings))
    shown, not_annotated = ci_outputs.github_annotations(report)
    levels = [parse_workflow_command(line).level for line in shown]  # type: ignore[union-attr]
    assert levels.count("error") == 10 and levels.count("warning") == 3
    assert not_annotated == 15
    summary = ci_outputs.summary_markdown(None, report, not_annotated)
    assert "15 finding(s) are not shown as annotations" in summary
    assert summary.count("| error |") == 25


def test_summary_stays_under_one_mib_and_says_what_it_left_out() -> None:
    findings = tuple(_finding(i, message="x" * 2000) for i in range(2000))
    summary = ci_outputs.summary_markdown(None, ValidationReport(findings=findings))
    assert len(summary.encode()) < 1024 * 1024
    assert "more finding(s) left out to keep the summary under 1 MiB" in summary


def test_secrets_never_reach_outputs_summary_or_dotenv() -> None:
    register("s3cr3t-token-value")
    result = ci_outputs.ProposeResult("created", "b", "abc", pr_number=7,
                                      pr_url="https://x/pr/7?t=s3cr3t-token-value", changed_files=("a.yaml",),
                                      validation="passed")
    assert "s3cr3t" not in ci_outputs.github_outputs(ci_outputs.propose_outputs(result))
    assert "s3cr3t" not in ci_outputs.summary_markdown(result, None)
    assert "s3cr3t" not in ci_outputs.gitlab_dotenv(result)


def test_dotenv_is_one_line_per_variable() -> None:
    result = ci_outputs.ProposeResult("updated", "handoff/dev/web", "abc123", pr_number=12,
                                      pr_url="https://gitlab.example/g/p/-/merge_requests/12",
                                      validation="failed\nwith detail")
    lines = ci_outputs.gitlab_dotenv(result).splitlines()
    assert "HANDOFF_OPERATION=updated" in lines and "HANDOFF_MR_IID=12" in lines
    assert "HANDOFF_MR_URL=https://gitlab.example/g/p/-/merge_requests/12" in lines
    assert all(line.count("=") >= 1 and "\n" not in line for line in lines)
    assert "HANDOFF_VALIDATION=failed with detail" in lines


@pytest.mark.parametrize("findings", [(), (_finding(1), _finding(2, Severity.WARNING))])
def test_junit_validates_against_the_jenkins_xsd(findings: tuple[Finding, ...]) -> None:
    report = ValidationReport(
        objects=(ObjectResult(DEPLOY, "envs/dev/web.yaml", 1, "invalid" if findings else "valid"),),
        findings=findings,
    )
    xml = ci_outputs.junit_xml(report)
    xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd")).validate(xml)
    assert ('failures="1"' in xml) == bool(findings)
    assert ("bad 1" in xml) == bool(findings)


def test_junit_for_skipped_validation_is_still_valid() -> None:
    xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd")).validate(ci_outputs.junit_xml(None))


def test_cli_writes_github_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    result = tmp_path / "result.json"
    result.write_text(json.dumps({
        "operation": "created", "pr_number": 3, "pr_url": "u", "branch": "handoff/dev/web",
        "head_sha": "abc", "changed_files": ["envs/dev/values.yaml"], "validation": "failed",
        "report": {"findings": [{"rule": "schema", "severity": "error", "message": "m", "file": "f.yaml",
                                 "line": 2, "column": 1}] * 12},
    }))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary"))
    assert main(["ci", "github", "--result", str(result)]) == 0
    outputs = parse_env_file((tmp_path / "out").read_text())
    assert outputs["pr-number"] == "3" and json.loads(outputs["changed-files"]) == ["envs/dev/values.yaml"]
    assert capsys.readouterr().out.count("::error ") == 10
    assert "2 finding(s) are not shown as annotations" in (tmp_path / "summary").read_text()


def test_cli_names_the_file_of_a_bad_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "result.json"
    bad.write_text("{not json")
    assert main(["ci", "gitlab", "--result", str(bad), "--dotenv", str(tmp_path / "e")]) == 2
    assert f"{bad}:1: not JSON" in capsys.readouterr().err
    assert not (tmp_path / "e").exists()


def test_cli_reads_a_validate_report_through_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Two environments' report, written by the JSON writer: the summary keeps them apart, lists the
    waiver and states the counts JUnit uses; the JUnit has one testcase per environment."""
    dev = ValidationReport(objects=(ObjectResult(DEPLOY, "envs/dev/web.yaml", 1, "invalid"),),
                           findings=(_finding(1),),
                           waivers=(WaiverUse("disallow-latest-tag", DEPLOY, "vendor chart", ".handoff.yaml:9"),))
    both = dev.for_environment("dev").merge(dev.for_environment("prod"))
    report = tmp_path / "validate.json"
    report.write_text(WRITERS["json"](both, WriterOptions()))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary"))
    assert main(["ci", "github", "--report", str(report)]) == 0
    assert capsys.readouterr().out.count("::error ") == 2
    summary = (tmp_path / "summary").read_text()
    assert "| severity | environment | rule | where | message |" in summary
    assert "- `disallow-latest-tag` for Deployment/dev/web in prod: vendor chart" in summary
    assert "**2 objects in 1 file: 0 valid, 2 invalid, 0 skipped**" in summary
    assert parse_env_file((tmp_path / "out").read_text())["validation"] == "failed"
    xml = ci_outputs.junit_xml(ValidationReport.from_json(report.read_text(), str(report)))
    xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd")).validate(xml)
    assert xml.count("<testcase ") == 2 and 'failures="2"' in xml


def test_the_result_ci_reads_is_the_one_the_workflow_wrote() -> None:
    """One ProposeResult: ``to_json`` (what ``propose --output json`` prints) read back by ``handoff ci``
    gives every field again, the report's waivers and environments included."""
    dev = ValidationReport(objects=(ObjectResult(DEPLOY, "envs/dev/web.yaml", 1, "invalid"),),
                           findings=(_finding(1),),
                           waivers=(WaiverUse("disallow-latest-tag", DEPLOY, "vendor chart", ".handoff.yaml:9"),))
    written = ProposeResult("created", "handoff/dev/web", "abc123", pr_number=4, pr_url="https://x/pr/4",
                            changed_files=("envs/dev/values.yaml",), validation="failed", image="web:1.2",
                            previous="web:1.1", message="opened", attempts=2,
                            report=dev.for_environment("dev", {"replicas": 2}), diff="-a\n+b\n",
                            title="t", body="b")
    assert ci_outputs.parse_propose_result(written.to_json(), "result.json") == written
    assert ci_outputs.ProposeResult is ProposeResult


@pytest.mark.parametrize(("data", "key"), [
    ({"operation": "merged"}, "operation"),
    ({"operation": "created", "pr_number": "seven"}, "pr_number"),
    ({"operation": "created", "pr_number": True}, "pr_number"),
    ({"operation": "created", "changed_files": 3}, "changed_files"),
])
def test_a_bad_result_names_its_key(data: dict[str, object], key: str) -> None:
    with pytest.raises(UsageError) as caught:
        ProposeResult.from_json(json.dumps(data), "result.json")
    assert caught.value.file == "result.json" and caught.value.key == key
