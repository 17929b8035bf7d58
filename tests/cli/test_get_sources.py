"""``handoff get sources`` against the harness's real kube-apiserver + etcd.

The Source CRD here is a minimal stand-in with the same group, kind, status subresource and status
shape as the generated one (the h18crd branch); at merge the generated CRD replaces it."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from handoff.cli import main
from handoff.kube.client import KubeClient, connect
from handoff.reconciler.sourcetable import SourceRow, age, table

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "sources.handoff.dev"},
    "spec": {
        "group": "handoff.dev", "scope": "Namespaced",
        "names": {"plural": "sources", "singular": "source", "kind": "Source", "listKind": "SourceList"},
        "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                      "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                          "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                          "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}],
    },
}


def _ensure_crd(client: KubeClient) -> None:
    if client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "sources.handoff.dev") is None:
        client.create(CRD)
    deadline = time.monotonic() + 60
    while True:
        crd = client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "sources.handoff.dev") or {}
        conditions = (crd.get("status") or {}).get("conditions") or []
        if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
            break
        assert time.monotonic() < deadline, "CRD not established"
        time.sleep(0.2)
    client.forget_discovery()


def _source(client: KubeClient, namespace: str, name: str, ready: str | None, revision: str = "",
            message: str = "") -> None:
    client.create({"apiVersion": "handoff.dev/v1", "kind": "Source",
                   "metadata": {"name": name, "namespace": namespace},
                   "spec": {"url": "https://git.example/acme/config.git", "revision": "main", "path": "app"}})
    if ready is None:
        return  # never reconciled: no status yet
    path = client.resource("handoff.dev/v1", "Source").path(namespace, name) + "/status"
    client.request("PATCH", path, content_type="application/merge-patch+json", body={"status": {
        "observedGeneration": 1, "lastAppliedRevision": revision, "lastAttemptedRevision": revision,
        "conditions": [{"type": "Ready", "status": ready, "reason": "Applied" if ready == "True" else "Failed",
                        "message": message, "lastTransitionTime": "2026-12-06T23:00:00Z"}]}})


@pytest.fixture
def namespaces(apiserver: Any) -> tuple[Path, str, str]:
    client = connect(apiserver.kubeconfig)
    _ensure_crd(client)
    uid = uuid.uuid4().hex[:6]
    team_a, team_b = f"team-a-{uid}", f"team-b-{uid}"
    for ns in (team_a, team_b):
        client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    _source(client, team_a, "web", "True", "0123456789abcdef0123456789abcdef01234567", "applied revision 0123456789ab")
    _source(client, team_a, "api", "False", "", "revision fedcba987654 not applied:\n  render failed")
    _source(client, team_b, "jobs", None)
    return apiserver.kubeconfig, team_a, team_b


def test_the_table_lists_every_namespace_with_ready_revision_and_message(
        namespaces: tuple[Path, str, str], capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig, team_a, team_b = namespaces
    assert main(["get", "sources", "--kubeconfig", str(kubeconfig)]) == 0
    out = capsys.readouterr().out
    assert "\x1b[" not in out  # not a terminal: plain
    header, *body = out.splitlines()
    assert header.split() == ["NAMESPACE", "NAME", "READY", "REVISION", "AGE", "MESSAGE"]
    ours = [line for line in body if line.split()[0] in (team_a, team_b)]
    assert [line.split()[:3] for line in ours] == [[team_a, "api", "False"], [team_a, "web", "True"],
                                                   [team_b, "jobs", "Unknown"]]
    api, web, jobs = ours
    for column in ("READY", "REVISION", "AGE", "MESSAGE"):  # every row aligned under its header
        assert {line[header.index(column) - 1] for line in (api, web)} == {" "}
        assert web[header.index(column)] != " "
    assert web[header.index("REVISION"):].startswith("0123456789ab ")
    assert web.endswith("applied revision 0123456789ab")
    assert api.endswith("revision fedcba987654 not applied: render failed")  # one line, whitespace folded
    assert jobs[header.index("REVISION"):header.index("AGE")].strip() == ""  # never applied
    assert jobs[header.index("AGE"):].strip().endswith("s")  # created seconds ago, no message yet


def test_namespace_filter_and_json(namespaces: tuple[Path, str, str], capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig, team_a, team_b = namespaces
    assert main(["get", "sources", "-n", team_b, "--kubeconfig", str(kubeconfig), "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["namespace"], r["name"], r["ready"], r["revision"]) for r in rows] == [(team_b, "jobs", "Unknown", "")]
    assert main(["get", "sources", "--namespace", team_a, "--kubeconfig", str(kubeconfig), "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["ready"], r["reason"]) for r in rows] == [("api", "False", "Failed"), ("web", "True", "Applied")]
    assert rows[1]["revision"] == "0123456789abcdef0123456789abcdef01234567"


def _on_a_terminal(argv: list[str], env: dict[str, str]) -> str:
    leader, follower = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "handoff", *argv], stdout=follower, stderr=subprocess.PIPE,
                              env=env, timeout=120, check=False)
        os.close(follower)
        assert done.returncode == 0, done.stderr
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode()
    finally:
        os.close(leader)


def test_colours_on_a_terminal_unless_no_color(namespaces: tuple[Path, str, str]) -> None:
    kubeconfig, team_a, _ = namespaces
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    argv = ["get", "sources", "-n", team_a, "--kubeconfig", str(kubeconfig)]
    coloured = _on_a_terminal(argv, env)
    assert "\x1b[32mTrue" in coloured and "\x1b[31mFalse" in coloured
    assert "\x1b[" not in _on_a_terminal(argv, {**env, "NO_COLOR": "1"})


def test_unknown_is_yellow_and_colour_codes_do_not_shift_columns() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    rows = [SourceRow("ns", "a", "Unknown", "", "", "2026-12-06T23:59:00Z", "waiting"),
            SourceRow("ns", "bb", "True", "Applied", "abc", "2026-12-06T23:59:00Z", "ok")]
    coloured = table(rows, colour=True, now=now)
    assert "\x1b[33mUnknown" in coloured
    strip = coloured.replace("\x1b[33m", "").replace("\x1b[32m", "").replace("\x1b[0m", "")
    assert strip == table(rows, colour=False, now=now)


@pytest.mark.parametrize(("delta", "shown"), [
    (timedelta(seconds=45), "45s"), (timedelta(minutes=3, seconds=20), "3m20s"), (timedelta(minutes=42), "42m"),
    (timedelta(hours=5, minutes=7), "5h7m"), (timedelta(hours=20), "20h"), (timedelta(days=3, hours=4), "3d4h"),
    (timedelta(days=120), "120d")])
def test_age_reads_like_kubectl(delta: timedelta, shown: str) -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    assert age((now - delta).isoformat().replace("+00:00", "Z"), now) == shown
