"""atk13b: the schema-$ref refusal and the subchart-values masking read subchart archives by a tar member
naming rule that is not Helm's, and skip a schema Python's ``json`` rejects but Helm accepts.

``handoff/render/chart_files.py`` ``_archive`` takes ``PurePosixPath(member.name).parts`` as they are.
Helm's ``LoadArchiveFiles`` instead drops the first component, turns ``\\`` into ``/`` when the name holds
one, and ``path.Clean``s the rest. So a member ``db/x/../values.schema.json`` (or ``db\\values.schema.json``)
is the subchart's schema to Helm and an unrelated file to handoff. ``handoff/render/remote.py``
``refuse_schema_refs`` returns without checking when ``json.loads`` fails, and a UTF-8 BOM makes it fail
while Helm strips the BOM and applies the schema.

Every test here fails today: helm (in validate, and in the reconciler for the BOM case) fetches the ``$ref``
from a 127.0.0.1 listener at render time, or
validate prints the subchart's password raw.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool
from tests.reconciler.cluster import new_cluster
from tests.security.leaks import leaks
from tests.security.test_render_network import Listener, listener  # noqa: F401 (fixture)

pytestmark = pytest.mark.tools

SUB_PASSWORD = "ArchivedSubDefault-4c9d2e71b0"
CONFIG = "environments:\n  dev: {render: {type: helm, path: chart}}\n"
CHART = "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n- name: db\n  version: 0.1.0\n"
TEMPLATE = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n"
            "  mode: {{{{ .Values.mode | quote }}}}\n")


def _tgz(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as archive:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _repo(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (root / name).write_bytes(content)
        else:
            (root / name).write_text(content)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-qm", "seed"], check=True)
    return root


def _validate(repo: Path, output: str = "json") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo),
                           "--output", output], capture_output=True, text=True, timeout=300, check=False,
                          cwd=repo, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})


def _archived_schema_repo(root: Path, member: str, url: str) -> Path:
    schema = json.dumps({"properties": {"mode": {"$ref": f"{url}/schema.json"}}})
    db = _tgz({"db/Chart.yaml": "apiVersion: v2\nname: db\nversion: 0.1.0\n", "db/values.yaml": "mode: x\n",
               "db/templates/cm.yaml": TEMPLATE.format(name="db"), member: schema})
    return _repo(root, {".handoff.yaml": CONFIG, "chart/Chart.yaml": CHART, "chart/values.yaml": "mode: a\n",
                        "chart/templates/cm.yaml": TEMPLATE.format(name="web"),
                        "chart/charts/db-0.1.0.tgz": db})


@pytest.mark.parametrize("member", ["db/x/../values.schema.json", "db\\values.schema.json"],
                         ids=["dotdot", "backslash"])
def test_a_schema_ref_in_a_subchart_archive_is_refused_however_the_member_is_spelled(
        tmp_path: Path, listener: Listener, member: str) -> None:  # noqa: F811
    require_tool("helm")
    repo = _archived_schema_repo(tmp_path / "repo", member, listener.url)
    done = _validate(repo)
    assert listener.requests == [], (
        f"helm fetched {listener.requests} at render time through the values.schema.json of a subchart "
        f"archive stored as tar member {member!r} (Helm cleans the name; handoff/render/chart_files.py "
        "_archive does not, so refuse_schema_refs never saw it)")
    assert done.returncode != 0 and "refused" in done.stdout + done.stderr


def test_a_schema_ref_behind_a_utf8_bom_is_refused(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    require_tool("helm")
    schema = b"\xef\xbb\xbf" + json.dumps({"properties": {"mode": {"$ref": f"{listener.url}/s.json"}}}).encode()
    repo = _repo(tmp_path / "repo", {
        ".handoff.yaml": CONFIG, "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        "chart/values.yaml": "mode: a\n", "chart/templates/cm.yaml": TEMPLATE.format(name="web"),
        "chart/values.schema.json": schema})
    done = _validate(repo)
    assert listener.requests == [], (
        f"helm fetched {listener.requests}: a values.schema.json starting with a UTF-8 BOM is not JSON to "
        "Python (handoff/render/remote.py refuse_schema_refs returns unchecked) but is to Helm")
    assert done.returncode != 0 and "refused" in done.stdout + done.stderr


def test_an_archived_subchart_password_quoted_by_fail_is_masked_however_the_member_is_spelled(
        tmp_path: Path) -> None:
    require_tool("helm")
    db = _tgz({
        "db/Chart.yaml": "apiVersion: v2\nname: db\nversion: 0.1.0\n",
        "db/x/../values.yaml": f"auth:\n  password: {SUB_PASSWORD}\n  minLength: 32\n",
        "db/templates/secret.yaml": (
            "{{- if lt (len .Values.auth.password) (int .Values.auth.minLength) }}\n"
            "{{- fail (printf \"auth.password %s is shorter than %d\" .Values.auth.password "
            "(int .Values.auth.minLength)) }}\n{{- end }}\n"
            "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n"
            "  password: {{ .Values.auth.password }}\n")})
    repo = _repo(tmp_path / "repo", {
        ".handoff.yaml": CONFIG, "chart/Chart.yaml": CHART, "chart/values.yaml": "mode: a\n",
        "chart/templates/cm.yaml": TEMPLATE.format(name="web"), "chart/charts/db-0.1.0.tgz": db})
    texts = {}
    for output in ("text", "json"):
        done = _validate(repo, output)
        texts[f"{output} stdout"], texts[f"{output} stderr"] = done.stdout, done.stderr
    assert "shorter than" in "".join(texts.values())
    assert leaks(texts, [SUB_PASSWORD]) == [], (
        "a subchart archive's values.yaml stored as member 'db/x/../values.yaml' (Helm's db/values.yaml) "
        f"was not masked: {texts['text stderr']}")


def test_reconcile_once_does_not_fetch_a_schema_ref_behind_a_utf8_bom(apiserver: Any, git_server: GitServer,
                                                                      tmp_path: Path,
                                                                      listener: Listener) -> None:  # noqa: F811
    require_tool("helm")
    schema = "\ufeff" + json.dumps({"properties": {"mode": {"$ref": f"{listener.url}/s.json"}}})
    c = new_cluster(apiserver, git_server, tmp_path, {
        "app/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n", "app/values.yaml": "mode: a\n",
        "app/templates/cm.yaml": TEMPLATE.format(name="web"), "app/values.schema.json": schema})
    done = subprocess.run(
        [sys.executable, "-m", "handoff", "reconcile", "--kubeconfig", str(apiserver.kubeconfig), "--repo", c.url,
         "--path", "app", "--revision", "main", "--name", f"src-{c.target_ns}", "--target-namespace", c.target_ns,
         "--namespace", c.control_ns, "--token-file", str(c.token_file), "--git-username", c.username,
         "--workdir", str(c.workdir), "--no-leader-elect", "--once"],
        capture_output=True, text=True, timeout=300, check=False)
    assert listener.requests == [], (f"the reconciler's helm child fetched {listener.requests} through a "
                                     "BOM-led values.schema.json (SSRF from inside the cluster)")
    assert done.returncode != 0


def test_a_bom_led_schema_does_not_read_or_quote_a_file_outside_the_repo(tmp_path: Path) -> None:
    require_tool("helm")
    outside = tmp_path / "outside" / "creds.json"
    outside.parent.mkdir()
    outside.write_text(json.dumps({"const": "atk13b-outside-secret-77aa"}))
    schema = b"\xef\xbb\xbf" + json.dumps({"properties": {"mode": {"$ref": f"file://{outside}"}}}).encode()
    repo = _repo(tmp_path / "repo", {
        ".handoff.yaml": CONFIG, "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        "chart/values.yaml": "mode: a\n", "chart/templates/cm.yaml": TEMPLATE.format(name="web"),
        "chart/values.schema.json": schema})
    done = _validate(repo)
    assert leaks({"stdout": done.stdout, "stderr": done.stderr}, ["atk13b-outside-secret-77aa"]) == [], (
        "a file outside the config repo, read through a BOM-led values.schema.json file:// $ref, was quoted: "
        f"{(done.stdout + done.stderr)[-300:]}")
