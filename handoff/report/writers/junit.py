"""JUnit XML (the common Jenkins/GitLab schema): one testcase per object, a failure per error."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from handoff.redact import redact
from handoff.report.model import Finding, ObjectRef, Severity, ValidationReport
from handoff.report.writers.base import WriterOptions, sorted_findings, where


def write_junit(report: ValidationReport, options: WriterOptions) -> str:
    by_object: dict[tuple[str, ObjectRef | None], list[Finding]] = defaultdict(list)
    for f in sorted_findings(report):
        by_object[(f.file, f.object)].append(f)
    cases: list[tuple[str, str, list[Finding], bool]] = []
    for o in report.objects:
        cases.append((o.file, str(o.object or f"object at line {o.line}"),
                      by_object.pop((o.file, o.object), []), o.status == "skipped"))
    for (file, obj), found in by_object.items():  # parse errors and findings on no known object
        cases.append((file, str(obj) if obj else "file", found, False))
    failures = sum(1 for _, _, found, _ in cases if any(f.severity >= Severity.ERROR for f in found))
    skipped = sum(1 for *_, skip in cases if skip)
    suites = ET.Element("testsuites", name=options.title, tests=str(len(cases)), failures=str(failures))
    suite = ET.SubElement(suites, "testsuite", name=options.title, tests=str(len(cases)),
                          failures=str(failures), errors="0", skipped=str(skipped))
    for file, name, found, skip in cases:
        case = ET.SubElement(suite, "testcase", classname=file, name=name)
        if skip:
            ET.SubElement(case, "skipped", message="no schema")
        errors = [f for f in found if f.severity >= Severity.ERROR]
        if errors:
            failure = ET.SubElement(case, "failure", message=redact(errors[0].message), type=errors[0].rule)
            failure.text = redact("\n".join(f"{where(f)}: {f.rule}: {f.message}" for f in errors))
        notes = [f for f in found if f.severity < Severity.ERROR]
        if notes:
            out = ET.SubElement(case, "system-out")
            out.text = redact("\n".join(f"{where(f)}: {f.severity}: {f.rule}: {f.message}" for f in notes))
    ET.indent(suites)
    text = ET.tostring(suites, encoding="unicode")
    # ElementTree passes control characters and lone surrogates through, which no XML parser accepts
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + _NOT_XML.sub("\ufffd", text) + "\n"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
