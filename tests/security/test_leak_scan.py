"""Leak scan: the full propose flow (GitLab contract server for the merge request, the harness git server for the
branch) and the reconciler flows (``--once``, a failing pass, a long-running process serving /metrics), run as
real processes with known fake secrets, then every place text ends up is searched for them.

Secrets: the forge/git token (also the git server's password for propose), and a second git password only the
reconciler knows, in a mounted token file (a second server over the same repositories, with other credentials).
Searched: stdout and stderr of every process (``-vv`` debug logs included), every file under HANDOFF_LOG_DIR,
merge-request titles, descriptions and every request body the forge received, the git servers' request lines,
the whole history of the config repo, every ConfigMap (status, inventory) and Event in the control and target
namespaces, the applied objects, /metrics, and the reconciler's clone config. Searched for in plain text and in
the base64 and URL-encoded forms that an Authorization header or a URL would carry, and in base32 and hex.
The config repo also holds a Secret the reconciler applies: its value must appear in none of those places
either, except the config repo (where it was written) and the applied Secret itself.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.client import connect
from tests.harness.git_server import GitServer
from tests.harness.ports import free_port
from tests.harness.tools import require_tool
from tests.propose.contract.gitlab_server import GitLabContractServer
from tests.propose.helpers import git
from tests.security.leaks import leak_forms, leaks

pytestmark = [pytest.mark.tools, pytest.mark.slow]

DEPLOYMENT = """apiVersion: apps/v1
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
          image: registry.example/web:1.0.0 # handoff:image web
          resources:
            requests: {cpu: 100m, memory: 64Mi}
            limits: {cpu: 200m, memory: 128Mi}
"""
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  mode: prod\n"
SECRET_VALUE = "s3cr3t-applied-by-the-reconciler"
SECRET = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-db\nstringData:\n  password: {SECRET_VALUE}\n"


def forms(user: str, secret: str) -> list[str]:
    """The secret as it could leak: plain, URL-encoded, and inside a basic-auth header value."""
    basic = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return [secret, urllib.parse.quote(secret, safe=""), basic, base64.b64encode(secret.encode()).decode(),
            *leak_forms(secret).values()]


@pytest.fixture
def reconciler_git(git_server: GitServer) -> Iterator[GitServer]:
    """The same repositories behind other credentials: the reconciler's own read-only token."""
    other = GitServer(require_tool("git"), git_server.root)
    other.start()
    try:
        yield other
    finally:
        other.stop()


def run(argv: list[str], env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "handoff", *argv], env=env, capture_output=True, text=True,
                          timeout=300, check=False, **kw)


def test_no_secret_anywhere_after_propose_and_reconcile(apiserver: Any, git_server: GitServer,
                                                        reconciler_git: GitServer, tmp_path: Path) -> None:
    assert git_server.username and git_server.password and reconciler_git.username and reconciler_git.password
    forge_token, reconciler_token = git_server.password, reconciler_git.password
    assert forge_token != reconciler_token
    secrets = forms(git_server.username, forge_token) + forms(reconciler_git.username, reconciler_token)
    gitlab = GitLabContractServer(forge_token)
    gitlab.head_of = lambda branch: None
    logs = tmp_path / "logs"
    env = {**os.environ, "HANDOFF_LOG_DIR": str(logs), "CFG_TOKEN": forge_token, "GITLAB_CI": "true",
           "CI_PROJECT_URL": "https://gitlab.example/acme/web",
           # a pipeline URL that (wrongly) carries the token: the MR description must show it redacted
           "CI_PIPELINE_URL": f"https://gitlab.example/acme/web/-/pipelines/7?private_token={forge_token}"}
    texts: dict[str, str] = {}
    try:
        url = git_server.create_repo("cfg", {"app/deployment.yaml": DEPLOYMENT, "app/configmap.yaml": CONFIGMAP,
                                             "app/secret.yaml": SECRET})
        propose_argv = ["-vv", "propose", "--image", "registry.example/web:1.1.0", "--app", "web", "--env", "prod",
                        "--config-repo", url, "--forge", "gitlab", "--project", "acme/config", "--forge-url",
                        gitlab.url, "--token-env", "CFG_TOKEN", "--git-username", git_server.username,
                        "--output", "json"]
        proposed = run(propose_argv, env)
        texts["propose stdout"], texts["propose stderr"] = proposed.stdout, proposed.stderr
        assert proposed.returncode == 0, proposed.stderr
        assert json.loads(proposed.stdout)["operation"] == "created"
        rejected = run([*propose_argv[:-2], "--token-env", "WRONG"], {**env, "WRONG": "wrong-" + forge_token})
        texts["rejected stdout"], texts["rejected stderr"] = rejected.stdout, rejected.stderr
        assert rejected.returncode != 0

        (mr,) = gitlab.mrs.values()
        texts["merge request"] = json.dumps(mr)
        assert "private_token=***" in mr["description"]  # redaction ran on a text that held the secret
        texts["forge requests"] = json.dumps([{k: r[k] for k in ("method", "path", "body")} for r in gitlab.requests])
        assert gitlab.violations == []

        control, target = _namespaces(apiserver)
        token_file = tmp_path / "git-token"
        token_file.write_text(reconciler_token + "\n")
        token_file.chmod(0o600)
        base = ["reconcile", "--kubeconfig", str(apiserver.kubeconfig), "--repo", reconciler_git.repo_url("cfg"),
                "--revision", "handoff/prod/web", "--path", "app", "--name", "leaky", "--target-namespace", target,
                "--namespace", control, "--token-file", str(token_file), "--git-username", reconciler_git.username,
                "--workdir", str(tmp_path / "work")]
        once = run([*base, "--once"], env)
        texts["reconcile stdout"], texts["reconcile stderr"] = once.stdout, once.stderr
        assert once.returncode == 0, once.stderr
        reconciler_git.fail_next(1000, status=500)  # through every retry of --once
        failing = run([*base, "--once"], env)
        reconciler_git.fail_next(0)
        texts["failing reconcile stdout"], texts["failing reconcile stderr"] = failing.stdout, failing.stderr
        assert failing.returncode == 1 and "500" in failing.stdout

        port = free_port()
        served = subprocess.Popen([sys.executable, "-m", "handoff", *base, "--interval", "1s", "--metrics-addr",
                                   f"127.0.0.1:{port}", "--identity", "leak-scan"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            texts["metrics"] = _metrics_after_a_pass(port)
        finally:
            served.send_signal(signal.SIGTERM)
            out, err = served.communicate(timeout=60)
        texts["served stdout"], texts["served stderr"] = out, err

        client = connect(apiserver.kubeconfig)
        for ns in (control, target):
            for kind in ("ConfigMap", "Event"):
                texts[f"{kind}s in {ns}"] = json.dumps(list(client.list("v1", kind, namespace=ns)))
        texts["deployments"] = json.dumps(list(client.list("apps/v1", "Deployment", namespace=target)))
        applied = client.get("v1", "Secret", "web-db", target)
        assert applied is not None and base64.b64decode(applied["data"]["password"]).decode() == SECRET_VALUE
        assert "registry.example/web:1.1.0" in texts["deployments"]
        assert "ReconcileFailed" in texts[f"Events in {control}"]
        assert "leaky" in texts[f"ConfigMaps in {control}"]
    finally:
        gitlab.stop()
    texts["git server requests"] = "\n".join(git_server.requests + reconciler_git.requests)
    texts["config repo history"] = git("--git-dir", str(git_server.bare_path("cfg")), "log", "--all", "-p",
                                       "--format=%H %an %ae%n%B")
    texts["reconciler clone config"] = (tmp_path / "work" / "leaky" / ".git" / "config").read_text()
    for path in sorted(logs.rglob("*")) if logs.exists() else []:
        if path.is_file():
            texts[f"log file {path.name}"] = path.read_text(errors="replace")

    # the searched forms are the real ones: the Authorization headers the servers received carry them
    sent = {r.headers.get("Authorization", "") for r in git_server.logged + reconciler_git.logged}
    per_token = len(secrets) // 2
    assert f"Basic {secrets[2]}" in sent and f"Basic {secrets[per_token + 2]}" in sent
    found = [(where, secrets.index(s)) for where, text in texts.items() for s in secrets if s in text]
    assert found == []
    assert leaks({k: v for k, v in texts.items() if k != "config repo history"}, [SECRET_VALUE]) == []
    assert all(texts[k] for k in ("propose stderr", "merge request", "Events in " + control, "metrics"))


def _namespaces(apiserver: Any) -> tuple[str, str]:
    client = connect(apiserver.kubeconfig)
    suffix = os.urandom(3).hex()
    names = (f"leak-ctl-{suffix}", f"leak-app-{suffix}")
    for ns in names:
        client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    return names


def _metrics_after_a_pass(port: int) -> str:
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                body = r.read().decode()
            if 'handoff_reconcile_duration_seconds_count{source="leaky"}' in body:
                return body
        except OSError:
            pass
        assert time.monotonic() < deadline, "no reconcile pass finished"
        time.sleep(0.5)
