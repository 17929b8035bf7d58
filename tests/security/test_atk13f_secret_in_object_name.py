"""atk13f: a Secret value stamped into another object's ``metadata.name`` is printed by validate, in every
report format, as the object's identity.

validate scrubs each finding's *message* with the rendered Secrets' values
(``handoff/validate/__init__.py`` ``masked``: ``scrub(f.message, …)`` and ``scrub(o.reason, …)``), but the
object's identity (``ConfigMap/<name>``) is appended afterwards, or written as its own field (json
``name``, junit ``testcase name``, sarif/markdown/github message suffix), from the unmasked object. A chart
that names a ConfigMap ``cfg-{{ .Values.password }}`` (any lowercase-alphanumeric password is a valid
DNS-1123 name) and gives it any finding puts the password into the CI log, the SARIF upload and the
GitHub annotations. What should hold: no report format shows a Secret's value, raw or encoded, wherever in
the report it would sit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from handoff.errors import HandoffError
from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool
from tests.propose.helpers import propose_on, show
from tests.security.leaks import leaks
from tests.security.test_secret_values import chart_files

pytestmark = pytest.mark.tools

PASSWORD = "s3cretvaluexyz42"
FILES = {".handoff.yaml": "environments:\n  dev: {render: {type: helm, path: chart}}\n",
         "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
         "chart/values.yaml": f"password: {PASSWORD}\n",
         "chart/templates/secret.yaml": ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n"
                                         "stringData:\n  password: {{ .Values.password }}\n"),
         # data.a is a number: a schema finding on the object whose name carries the password
         "chart/templates/cm.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                     "  name: cfg-{{ .Values.password }}\ndata:\n  a: 1\n")}
FORMATS = ("text", "json", "sarif", "junit", "markdown", "github")


@pytest.mark.parametrize("output", FORMATS)
def test_validate_prints_no_secret_value_through_an_object_name(tmp_path: Path, output: str) -> None:
    require_tool("helm")
    repo = tmp_path / "repo"
    for name, text in FILES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev",
                           "--output", output], cwd=repo, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 1, (done.returncode, done.stderr)  # the schema finding is reported
    found = leaks({f"validate --output {output} stdout": done.stdout, "stderr": done.stderr}, [PASSWORD])
    assert found == [], (f"validate --output {output} quotes the Secret's value through the ConfigMap's name: "
                         f"{sorted({(w, f) for w, _, f in found})}")


@pytest.mark.parametrize("on_invalid", ["comment", "fail"])
def test_propose_shows_no_secret_value_through_an_object_name(git_server: GitServer, on_invalid: str) -> None:
    """The same object name in propose. The body and messages are scrubbed, but ``result.report``
    keeps the finding's unmasked object name: ``propose --output json`` writes it, and ``handoff ci
    github --result`` / ``ci gitlab --junit`` print it as annotations and test cases."""
    require_tool("helm")
    files = chart_files()
    files["envs/dev/secrets.yaml"] = f"password: {PASSWORD}\n"
    files["chart/templates/named.yaml"] = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                           "  name: cfg-{{ .Values.password }}\ndata:\n  a: 1\n")
    repo = f"named-{on_invalid}"
    url = git_server.create_repo(repo, files)
    texts: dict[str, str] = {}
    try:
        result = propose_on(git_server, url, "registry.example/web:1.1.0", on_invalid=on_invalid)
    except HandoffError as e:
        texts["propose error"] = str(e)
    else:
        texts["result body"], texts["result message"] = result.body, result.message
        texts["result error"] = result.error or ""
        texts["result.report findings (propose --output json)"] = repr(result.report.findings if result.report else ())
        if result.operation == "created":
            texts["pushed md"] = show(git_server, repo, "handoff/dev/web", ".handoff/proposals/dev-web.md")
    assert result.validation == "failed", texts  # the ConfigMap's schema finding is reported
    found = leaks(texts, [PASSWORD])
    assert found == [], (f"propose (on_invalid={on_invalid}) quotes the Secret's value through the ConfigMap's "
                         f"name: {sorted({(w, f) for w, _, f in found})}")
