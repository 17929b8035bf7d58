"""atk13b: a Secret value written as a big unquoted integer (a 20-digit numeric token in ``stringData``)
is quoted in validate's schema finding as the float the validator saw (``90071992547409936384.0``),
its leading 16 digits intact: the masking matches the finding's value against the Secret's by equality
(``handoff/manifests/sensitive.py``), and the float is not equal to the int. A 16-digit value is masked
(``<secret sha256:…>``), so only the wide ones get out, in every output format.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from handoff.manifests.model import RenderedObject
from handoff.manifests.sensitive import SensitiveField, rules_for
from handoff.validate import validate_objects
from handoff.validate.builtin import compile_schema, error_findings
from tests.harness.tools import require_tool

SECRET_DIGITS = "90071992547409931234"
SHOWN_PREFIX = SECRET_DIGITS[:15]


def test_a_wide_numeric_secret_value_is_not_quoted_in_findings(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / ".handoff.yaml").write_text("environments:\n  dev: {render: {type: plain, path: app}}\n")
    (repo / "app" / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: api}\ntype: Opaque\nstringData:\n"
        f"  token: {SECRET_DIGITS}\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "seed"], check=True)
    shown = {}
    for output in ("text", "json", "sarif", "junit", "markdown", "github"):
        done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo),
                               "--output", output], capture_output=True, text=True, timeout=120, check=False,
                              cwd=repo, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
        assert done.returncode != 0 and "stringData.token" in done.stdout + done.stderr
        shown[output] = [line.strip()[:200] for line in (done.stdout + done.stderr).splitlines()
                         if SHOWN_PREFIX in line]
    assert not any(shown.values()), (
        f"the value of Secret api (stringData.token, {len(SECRET_DIGITS)} digits) is quoted, as a float, in "
        f"validate's findings: {shown}")


@pytest.mark.tools
def test_kubeconform_findings_never_quote_a_secret_value_either(tmp_path: Path) -> None:
    require_tool("kubeconform")
    secret = RenderedObject({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api"},
                             "stringData": {"token": int(SECRET_DIGITS), "list": [int(SECRET_DIGITS)]}},
                            "app/secret.yaml", 1)
    report = validate_objects([secret], engine="kubeconform")
    messages = [f.message for f in report.findings]
    assert {f.path for f in report.findings} == {"stringData.token", "stringData.list"}, messages
    assert not [m for m in messages if SHOWN_PREFIX in m or "e+19" in m], messages
    assert all("<secret" in m for m in messages), messages


@pytest.mark.parametrize(("schema", "value", "said"), [
    ({"type": "string", "maxLength": 4}, "Tr0ub4dor-long-secret", "maxLength check (limit 4)"),
    ({"type": "string", "pattern": "^x"}, "Tr0ub4dor-pattern", "pattern check (pattern \"^x\")"),
    ({"enum": ["a", "b"]}, "Tr0ub4dor-enum", "enum check"),
    ({"type": "integer"}, 12345678.5, 'is not of type "integer"'),
], ids=["maxLength", "pattern", "enum", "type"])
def test_a_declared_sensitive_field_is_never_quoted_whatever_the_schema_says(
        schema: dict[str, object], value: object, said: str) -> None:
    """Whatever keyword fails, the finding says what the schema asked, not what the value was."""
    obj = RenderedObject({"apiVersion": "x/v1", "kind": "Vault", "metadata": {"name": "v"},
                          "spec": {"key": value}}, "app/vault.yaml", 1)
    validator = compile_schema({"type": "object", "properties": {"spec": {
        "type": "object", "properties": {"key": schema}}}})
    rules = rules_for([SensitiveField("Vault", "spec.key")])
    findings = error_findings(obj, validator.iter_errors(dict(obj.obj)), sensitive=rules)
    assert len(findings) == 1 and said in findings[0].message, findings
    assert str(value)[:8] not in findings[0].message and "<secret sha256:" in findings[0].message, findings
