"""atk13: Secret values reaching outputs by routes the masking does not cover (real helm, local forge).

1. A vendored subchart's ``values.yaml`` (``charts/db/values.yaml``, a default password) quoted by a failing
   template (``fail``/``required``): ``handoff/render/helm.py`` ``_values_files`` masks only the parent
   chart's ``values.yaml`` and the ``-f`` files, so the subchart's value is printed raw in the render
   error (validate stderr, the PR body's validation cause, the reconciler's status).
2. The value a Secret carries, also rendered into the Deployment next to the image (an env var, the
   common chart shape): the rendered diff of the PR body shows it as diff context, raw, because masking is
   by field (``handoff/manifests/sensitive.py`` ``masked_object``) and the PR body is not scrubbed with the
   rendered Secrets' values (``handoff/workflows/propose.py`` ``rendered_diff``), whereas validate's
   outputs are (``handoff/validate/__init__.py`` ``masked``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool
from tests.propose.helpers import propose_on, show
from tests.reconciler.cluster import new_cluster
from tests.security.leaks import leaks

pytestmark = pytest.mark.tools

SUB_PASSWORD = "SubChartDefault-7e1f0c33aa"
PASSWORD = "Tr0ub4dor&3-atk13-kept"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


SUBCHART = {
    ".handoff.yaml": "environments:\n  dev: {render: {type: helm, path: chart}}\n",
    "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n  - name: db\n    version: 0.1.0\n",
    "chart/values.yaml": "mode: prod\n",
    "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {mode: prod}\n",
    "chart/charts/db/Chart.yaml": "apiVersion: v2\nname: db\nversion: 0.1.0\n",
    "chart/charts/db/values.yaml": f"auth:\n  password: {SUB_PASSWORD}\n  minLength: 32\n",
    "chart/charts/db/templates/secret.yaml": (
        "{{- if lt (len .Values.auth.password) (int .Values.auth.minLength) }}\n"
        "{{- fail (printf \"auth.password %s is shorter than %d\" .Values.auth.password (int .Values.auth.minLength)) }}\n"
        "{{- end }}\n"
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: {{ .Values.auth.password }}\n"),
}


def test_a_subchart_default_password_quoted_by_fail_is_masked(tmp_path: Path) -> None:
    require_tool("helm")
    repo = _write(tmp_path / "repo", SUBCHART)
    texts = {}
    for output in ("text", "json", "markdown"):
        done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo),
                               "--output", output], capture_output=True, text=True, timeout=300, check=False,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
        texts[f"validate {output} stdout"], texts[f"validate {output} stderr"] = done.stdout, done.stderr
    assert "shorter than" in "".join(texts.values())  # the render failed as the chart meant
    assert leaks(texts, [SUB_PASSWORD]) == [], (
        "a string value of a vendored subchart's values.yaml, quoted by `fail`, reached validate's output "
        f"unmasked: {texts['validate text stderr']}")


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
CHART = {
    ".handoff.yaml": ("environments:\n  dev:\n    render: {type: helm, path: chart, values: [envs/dev/values.yaml,"
                      " envs/dev/secrets.yaml], release: web}\napps:\n  web:\n    image: registry.example/web\n"
                      "    targets:\n      - type: marker\n        path: envs/dev/values.yaml\n"),
    "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "chart/values.yaml": "image: registry.example/web:0.0.1\npassword: ''\n",
    "chart/templates/deployment.yaml": DEPLOYMENT,
    "chart/templates/secret.yaml": SECRET,
    "envs/dev/values.yaml": "image: registry.example/web:1.0.0 # handoff:image web\n",
    "envs/dev/secrets.yaml": f'password: "{PASSWORD}"\n',
}


def test_a_secret_value_never_appears_in_the_pr_body(git_server: GitServer) -> None:
    require_tool("helm")
    url = git_server.create_repo("atk13-secrets", CHART)
    result = propose_on(git_server, url, "registry.example/web:1.1.0", on_invalid="comment")
    assert result.operation == "created", result.message
    bodies = {name: show(git_server, "atk13-secrets", "handoff/dev/web", f".handoff/proposals/dev-web.{name}")
              for name in ("md", "json")}
    bodies["result body"] = result.body
    assert "+          image: registry.example/web:1.1.0" in bodies["md"] or "1.1.0" in bodies["md"]
    assert leaks(bodies, [PASSWORD]) == [], (
        "the value of Secret web-db (stringData.password) is in the PR body, as rendered-diff context of the "
        f"Deployment: {[line for line in bodies['md'].splitlines() if PASSWORD in line]}")


def test_reconcile_once_reports_a_subchart_password_nowhere(apiserver, git_server: GitServer,  # type: ignore[no-untyped-def]
                                                           tmp_path: Path) -> None:
    require_tool("helm")
    files = {name.replace("chart/", "app/", 1): text for name, text in SUBCHART.items() if name != ".handoff.yaml"}
    c = new_cluster(apiserver, git_server, tmp_path, files)
    done = subprocess.run(
        [sys.executable, "-m", "handoff", "-vv", "reconcile", "--kubeconfig", str(apiserver.kubeconfig), "--repo",
         c.url, "--path", "app", "--revision", "main", "--name", f"src-{c.target_ns}", "--target-namespace",
         c.target_ns, "--namespace", c.control_ns, "--token-file", str(c.token_file), "--git-username",
         c.username, "--workdir", str(c.workdir), "--no-leader-elect", "--once"],
        capture_output=True, text=True, timeout=300, check=False)
    texts = {"reconcile stdout": done.stdout, "reconcile stderr": done.stderr}
    for api, kind in (("v1", "ConfigMap"), ("v1", "Event")):
        texts[f"{kind}s"] = json.dumps(list(c.client.list(api, kind, namespace=c.control_ns)))
    assert "shorter than" in "".join(texts.values())
    assert leaks(texts, [SUB_PASSWORD]) == [], (
        "a vendored subchart's default password, quoted by `fail`, is in the reconciler's output/status: "
        f"{sorted({w for w, _, _ in leaks(texts, [SUB_PASSWORD])})}")
