"""JUnit XML (the common Jenkins/GitLab schema): one testsuite per environment, one testcase per
(environment, file, object), a failure per invalid object. The counts are ``ValidationReport.counts``:
``tests`` = objects + files with findings on no checked object, ``failures`` = invalid ones of both."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from handoff.redact import redact
from handoff.report.model import Case, Severity, ValidationReport
from handoff.report.writers.base import WriterOptions, where


def write_junit(report: ValidationReport, options: WriterOptions) -> str:
    cases = report.cases()
    suites = ET.Element("testsuites", name=options.title, tests=str(len(cases)),
                        failures=str(_failures(cases)))
    environments = list(dict.fromkeys(c.environment for c in cases)) or [""]
    for env in environments:
        mine = [c for c in cases if c.environment == env]
        suite = ET.SubElement(suites, "testsuite", name=f"{options.title} ({env})" if env else options.title,
                              tests=str(len(mine)), failures=str(_failures(mine)), errors="0",
                              skipped=str(sum(1 for c in mine if c.status == "skipped")))
        for c in mine:
            _testcase(suite, c)
    ET.indent(suites)
    text = ET.tostring(suites, encoding="unicode")
    # ElementTree passes control characters and lone surrogates through, which no XML parser accepts
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + _NOT_XML.sub("\ufffd", text) + "\n"


def _failures(cases: list[Case] | tuple[Case, ...]) -> int:
    return sum(1 for c in cases if c.status == "invalid")


def _testcase(suite: ET.Element, c: Case) -> None:
    if c.object is not None:
        name = str(c.object)
    else:
        name = "file" if c.result is None else f"object at line {c.result.line}"
    classname = f"{c.environment}/{c.file}" if c.environment else c.file
    case = ET.SubElement(suite, "testcase", classname=classname, name=name)
    if c.status == "skipped":
        ET.SubElement(case, "skipped", message=redact(c.result.reason if c.result else "") or "no schema")
    errors = [f for f in c.findings if f.severity >= Severity.ERROR]
    if c.status == "invalid":
        reason = (c.result.reason if c.result is not None else "") or "invalid"
        failure = ET.SubElement(case, "failure", message=redact(errors[0].message if errors else reason),
                                type=errors[0].rule if errors else "invalid")
        failure.text = redact("\n".join(f"{where(f)}: {f.rule}: {f.message}" for f in errors) or reason)
    notes = [f for f in c.findings if f.severity < Severity.ERROR]
    if notes:
        out = ET.SubElement(case, "system-out")
        out.text = redact("\n".join(f"{where(f)}: {f.severity}: {f.rule}: {f.message}" for f in notes))


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
