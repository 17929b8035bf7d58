"""atk13b: the PR body's rendered diff is scrubbed of Secret values by exact substring
(``handoff/manifests/sensitive.py`` ``scrub``, called from ``handoff/workflows/propose.py`` ``rendered_diff``),
but the diff text is ``yaml.safe_dump`` output (``handoff/manifests/canonical.py``), which escapes what
it does not print plainly: a non-ASCII character becomes ``\\xE9``, a tab ``\\t``, a line break splits the
value over lines. A Secret's password with an ``é`` (or a tab) rendered into another field too (an
env var next to the image, the common shape atk13's F4 test uses) is then in the PR body, escaped but whole.
"""

from __future__ import annotations

import pytest

from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool
from tests.propose.helpers import propose_on, show

pytestmark = pytest.mark.tools

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: {{ .Values.image }}
          env:
            - name: DB_PASSWORD
              value: {{ .Values.password | quote }}
"""
SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: web-db
stringData:
  password: {{ .Values.password | quote }}
"""


@pytest.mark.parametrize(("written", "escaped"), [
    ("Tr0ub4dor-caf\\u00e9-atk13b-kept", "Tr0ub4dor-caf\\xE9-atk13b-kept"),
    ("Tr0ub4dor-tab\\there-atk13b-kept", "Tr0ub4dor-tab\\there-atk13b-kept"),
], ids=["non-ascii", "tab"])
def test_an_escaped_secret_value_never_appears_in_the_pr_body(git_server: GitServer, written: str,
                                                             escaped: str) -> None:
    require_tool("helm")
    files = {
        ".handoff.yaml": ("environments:\n  dev:\n    render: {type: helm, path: chart, values: "
                          "[envs/dev/values.yaml, envs/dev/secrets.yaml], release: web}\napps:\n  web:\n"
                          "    image: registry.example/web\n    targets:\n      - type: marker\n"
                          "        path: envs/dev/values.yaml\n"),
        "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        "chart/values.yaml": "image: registry.example/web:0.0.1\npassword: ''\n",
        "chart/templates/deployment.yaml": DEPLOYMENT,
        "chart/templates/secret.yaml": SECRET,
        "envs/dev/values.yaml": "image: registry.example/web:1.0.0 # handoff:image web\n",
        "envs/dev/secrets.yaml": f'password: "{written}"\n',
    }
    name = f"atk13b-esc-{'u' if 'caf' in written else 't'}"
    url = git_server.create_repo(name, files)
    result = propose_on(git_server, url, "registry.example/web:1.1.0", on_invalid="comment")
    assert result.operation == "created", result.message
    bodies = {kind: show(git_server, name, "handoff/dev/web", f".handoff/proposals/dev-web.{kind}")
              for kind in ("md", "json")}
    bodies["result body"] = result.body
    assert "1.1.0" in bodies["md"]
    shown = {where: [line[:160] for line in text.splitlines() if escaped in line or escaped.replace("\\", "\\\\") in line]
             for where, text in bodies.items()}
    assert not any(shown.values()), (
        "the value of Secret web-db (stringData.password), YAML-escaped in the rendered diff, is in the PR "
        f"body: {shown}")
