"""Fuzz the `.handoff.yaml` loader and the report writers.

The loader turns any text into a Config or one-line ConfigError/YamlError naming `.handoff.yaml`. The writers
turn any findings (hostile messages: newlines, workflow-command text, XML-invalid characters, markdown table
breakers) into output that stays well-formed: JSON/SARIF parse and keep the text, JUnit is valid XML, GitHub
output cannot start a workflow command of its own, and markdown stays within its budget.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoff.config import parse_config_text
from handoff.errors import ConfigError, HandoffError, YamlError
from handoff.report.model import Finding, ObjectRef, ObjectResult, Severity, ValidationReport, WaiverUse
from handoff.report.writers import WRITERS, WriterOptions

EXAMPLES = int(os.environ.get("HANDOFF_FUZZ_EXAMPLES", "200"))
NAME = st.sampled_from(["web", "api", "-x", "a b", "web\n", "ü", "", "../x", "a" * 300, "1", "{{x}}"])
VALUE = st.one_of(NAME, st.sampled_from([None, 1, True, [], {}, "/etc/passwd", "../../x", "~/x", "values.yaml",
                                          "image.tag", "a[name=x].image", "ghcr.io/a/b", "UPPER/x", "2024-13-45"]))
TARGET_KEYS = ["type", "path", "envs", "repository", "tag", "digest", "registry", "image", "name", "kind",
               "container", "bogus"]
TYPES = st.sampled_from(["helm", "kustomize", "manifest", "marker", "other"])


def _yaml(value: object, indent: int = 0) -> str:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "\n" + "\n".join(f"{pad}{json.dumps(str(k))}: {_yaml(v, indent + 2)}" for k, v in value.items())
    if isinstance(value, list):
        if not value:
            return "[]"
        return "\n" + "\n".join(f"{pad}- {_yaml(v, indent + 2).lstrip()}" for v in value)
    return json.dumps(value)


@st.composite
def config(draw: st.DrawFn) -> str:
    apps = {}
    for app in draw(st.lists(NAME, max_size=3, unique=True)):
        targets = []
        for _ in range(draw(st.integers(0, 2))):
            target = {"type": draw(TYPES), "path": draw(VALUE)}
            for key in draw(st.lists(st.sampled_from(TARGET_KEYS), max_size=3, unique=True)):
                target[key] = draw(VALUE)
            targets.append(target)
        apps[app] = {"image": draw(VALUE), "targets": targets}
    data: dict[str, object] = {"apps": apps}
    if draw(st.booleans()):
        data["environments"] = {draw(NAME): {"branch": draw(VALUE), "render": {"type": draw(TYPES),
                                                                               "path": draw(VALUE)}}}
    if draw(st.booleans()):
        data["waivers"] = [{"policy": draw(NAME), "reason": draw(VALUE), "expires": draw(VALUE),
                            "match": {"kind": draw(NAME)}}]
    if draw(st.booleans()):
        data["propose"] = {"branch": draw(st.sampled_from(["--upload-pack=x", "handoff/{env}/{app}", "{x.__class__}",
                                                            "a..b", "@{-1}", "x.lock"])),
                           "title": draw(st.sampled_from(["{app}", "{0.__globals__}", "${HOME}", "%(x)s"]))}
    return _yaml(data).lstrip("\n") + "\n"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(config(), config().map(lambda t: t.replace(":", "", 1)), st.text(max_size=100)))
def test_config_loader_only_raises_config_errors(text: str) -> None:
    try:
        parse_config_text(text)
    except (ConfigError, YamlError) as e:
        message = str(e)
        assert "\n" not in message and message.startswith(".handoff.yaml")
    except HandoffError as e:  # an ImageRefError or such is still a clear one-liner
        assert "\n" not in str(e)


HOSTILE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["line\n::error::injected", "a\r\n::add-mask::x", "::set-output name=x::y", "%0A::warning::x",
                     "<script>", "]]>", "\x00\x01\x1b[31m", "\ud7ff\ufffe", "a | b | c", "`code`", "${{ secrets.X }}",
                     "# heading\n---", "x" * 3000]),
)
FINDING = st.builds(Finding, rule=HOSTILE, severity=st.sampled_from(list(Severity)), message=HOSTILE, file=HOSTILE,
                    line=st.integers(1, 10**6), column=st.integers(1, 500), path=HOSTILE,
                    object=st.one_of(st.none(), st.builds(ObjectRef, HOSTILE, HOSTILE, HOSTILE, HOSTILE)),
                    engine=st.sampled_from(["builtin", ""]))
REPORT = st.builds(
    ValidationReport,
    objects=st.lists(st.builds(ObjectResult, object=st.none(), file=HOSTILE, line=st.integers(1, 99),
                               status=st.sampled_from(["valid", "invalid", "skipped"]), reason=HOSTILE),
                     max_size=4).map(tuple),
    findings=st.lists(FINDING, max_size=25).map(tuple),
    waivers=st.lists(st.builds(WaiverUse, rule=HOSTILE, object=st.none(), reason=HOSTILE, source=HOSTILE),
                     max_size=2).map(tuple),
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.data_too_large])
@given(REPORT)
def test_writers_stay_well_formed_on_hostile_findings(report: ValidationReport) -> None:
    options = WriterOptions(max_chars=20_000)
    outputs = {name: writer(report, options) for name, writer in WRITERS.items()}
    data = json.loads(outputs["json"])
    assert [f["message"] for f in data["findings"]] == [
        f.message for f in sorted(report.findings, key=lambda f: (f.file, f.line, f.column, -f.severity, f.rule))]
    json.loads(outputs["sarif"])
    ET.fromstring(outputs["junit"].split("\n", 1)[1])  # well-formed XML, whatever the messages held
    runner_lines = outputs["github"].replace("\r", "\n").split("\n")  # how the Actions runner reads stdout
    commands = [line for line in runner_lines if line.lstrip().startswith("::")]
    assert len(commands) <= 3 * 10 + 1  # only the capped annotations and one notice
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in commands)
    assert len(outputs["markdown"]) <= options.max_chars
