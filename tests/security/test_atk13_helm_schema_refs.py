"""atk13: a chart's ``values.schema.json`` is repository content that Helm acts on at render time.

Helm (3.22) resolves every ``$ref`` in it: ``http://…`` is fetched (a loopback URL is never proxied, so the
closed proxy does not stop it) and ``file://…`` is opened anywhere on the host, its content quoted in the
schema error. Neither goes through the remote scan (``handoff/render/remote.py`` ``RemoteScan.chart`` only
reads ``Chart.yaml`` dependencies) nor the input check (``handoff/render/inputs.py`` ``check_inputs`` only
looks at symlinks). These tests fail until that file is scanned (or refused) before helm runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool
from tests.reconciler.cluster import new_cluster
from tests.security.leaks import leaks
from tests.security.test_render_network import Listener, listener  # noqa: F401 (fixture)

pytestmark = pytest.mark.tools

SECRET = "atk13-outside-secret-5f0c2d9e77"
CHART = "apiVersion: v2\nname: web\nversion: 0.1.0\n"
VALUES = "mode: hello\n"
TEMPLATE = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n"
            "  mode: {{ .Values.mode | quote }}\n")
CONFIG = "environments:\n  dev: {render: {type: helm, path: chart}}\n"


def _repo(root: Path, schema: dict[str, Any]) -> Path:
    files = {".handoff.yaml": CONFIG, "chart/Chart.yaml": CHART, "chart/values.yaml": VALUES,
             "chart/templates/cm.yaml": TEMPLATE, "chart/values.schema.json": json.dumps(schema)}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-qm", "seed"], check=True)
    return root


def _validate(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo),
                           "--output", "json"], capture_output=True, text=True, timeout=300, check=False,
                          cwd=repo, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})


def test_validate_does_not_fetch_a_schema_ref_over_http(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    require_tool("helm")
    repo = _repo(tmp_path / "repo", {"properties": {"mode": {"$ref": f"{listener.url}/schema.json"}}})
    done = _validate(repo)
    assert listener.requests == [], (f"helm fetched {listener.requests} at render time through "
                                     "values.schema.json $ref; nothing may be fetched at render time")
    assert done.returncode != 0 and "values.schema.json" in done.stdout + done.stderr


def test_validate_does_not_read_or_quote_a_file_outside_the_repo_through_a_schema_ref(tmp_path: Path) -> None:
    require_tool("helm")
    outside = tmp_path / "outside" / "creds.json"
    outside.parent.mkdir()
    outside.write_text(json.dumps({"const": SECRET}))  # e.g. a JSON credentials file
    repo = _repo(tmp_path / "repo", {"properties": {"mode": {"$ref": f"file://{outside}"}}})
    done = _validate(repo)
    assert leaks({"validate stdout": done.stdout, "validate stderr": done.stderr}, [SECRET]) == [], (
        "the content of a file outside the config repo, read through a values.schema.json file:// $ref, "
        f"was quoted in validate's output: {done.stdout + done.stderr}")
    assert done.returncode != 0 and "values.schema.json" in done.stdout + done.stderr


def test_reconcile_once_does_not_fetch_a_schema_ref(apiserver: Any, git_server: GitServer, tmp_path: Path,
                                                    listener: Listener) -> None:  # noqa: F811
    require_tool("helm")
    schema = json.dumps({"properties": {"mode": {"$ref": f"{listener.url}/schema.json"}}})
    c = new_cluster(apiserver, git_server, tmp_path, {
        "app/Chart.yaml": CHART, "app/values.yaml": VALUES, "app/templates/cm.yaml": TEMPLATE,
        "app/values.schema.json": schema})
    done = subprocess.run(
        [sys.executable, "-m", "handoff", "reconcile", "--kubeconfig", str(apiserver.kubeconfig), "--repo", c.url,
         "--path", "app", "--revision", "main", "--name", f"src-{c.target_ns}", "--target-namespace", c.target_ns,
         "--namespace", c.control_ns, "--token-file", str(c.token_file), "--git-username", c.username,
         "--workdir", str(c.workdir), "--no-leader-elect", "--once"],
        capture_output=True, text=True, timeout=300, check=False)
    assert listener.requests == [], (f"the reconciler's helm child fetched {listener.requests} (SSRF from "
                                     "inside the cluster, content no commit covers)")
    assert done.returncode != 0
