from handoff.redact import forget_all, register
from handoff.report.model import Finding, ObjectRef, ObjectResult, Severity, ValidationReport
from handoff.report.writers import WRITERS, WriterOptions, annotation_lines

REF = ObjectRef("apps/v1", "Deployment", "web", "prod")


def _finding(i: int, severity: Severity = Severity.ERROR, message: str = "bad") -> Finding:
    return Finding(rule="schema", severity=severity, message=message, file="a.yaml", line=i, column=3,
                   path="spec.x", object=REF)


def _report(findings: list[Finding]) -> ValidationReport:
    return ValidationReport(objects=(ObjectResult(REF, "a.yaml", 1, "invalid"),), findings=tuple(findings))


def test_github_annotations_are_capped_per_type_and_summarised() -> None:
    findings = [_finding(i) for i in range(1, 14)] + [_finding(99, Severity.WARNING)]
    lines = annotation_lines(findings)
    assert sum(line.startswith("::error ") for line in lines) == 10
    assert sum(line.startswith("::warning ") for line in lines) == 1
    assert lines[-1] == "::notice title=handoff::3 more errors not shown as annotations (see the job log)"
    assert lines[0] == "::error file=a.yaml,line=1,col=3,title=schema::bad (Deployment/prod/web)"


def test_github_escapes_newlines_and_percent() -> None:
    (line,) = annotation_lines([_finding(1, message="50% off\nnext")])
    assert "50%25 off%0Anext" in line


def test_markdown_is_size_bounded() -> None:
    text = WRITERS["markdown"](_report([_finding(i, message="x" * 200) for i in range(1, 500)]),
                               WriterOptions(max_chars=5_000))
    assert len(text) <= 5_000
    assert "more finding(s) not shown" in text
    assert "1 object in 1 file: 0 valid, 1 invalid, 0 skipped" in text


def test_text_colours_only_when_asked() -> None:
    report = _report([_finding(8)])
    assert "\033[31m" in WRITERS["text"](report, WriterOptions(color=True))
    assert "\033[" not in WRITERS["text"](report, WriterOptions(color=False))


def test_every_writer_redacts_registered_secrets() -> None:
    register("s3cr3t-token-value")
    try:
        report = _report([_finding(1, message="value s3cr3t-token-value is not an integer")])
        for name, writer in WRITERS.items():
            assert "s3cr3t-token-value" not in writer(report, WriterOptions()), name
    finally:
        forget_all()


def test_redaction_of_a_big_report_still_masks_every_shape() -> None:
    # the patterns are skipped when their required text is absent: present once, anywhere, it is masked
    from handoff.redact import redact  # noqa: PLC0415 (this file's other tests do not need it)
    filler = '{"object": "x", "line": 1}, ' * 20_000
    for secret, masked in (("https://user:pw@git.example.com/r", "https://***@git.example.com/r"),
                           ("ghp_" + "a" * 30, "***"), ("AuthoriZation: Bearer abc.def", "AuthoriZation: Bearer ***")):
        assert redact(filler + secret + " " + filler) == filler + masked + " " + filler
    assert redact(filler) == filler
