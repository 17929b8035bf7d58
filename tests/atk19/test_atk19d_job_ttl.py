"""atk19d: a Job whose ttlSecondsAfterFinished is added at admission (a mutating webhook, as Kyverno or a
platform default does) rather than written in Git, on the real workload cluster (kube-controller-manager's
TTL-after-finished controller + KWOK), a real HTTPS mutating webhook and a real reconcile pass. Fails today
(see /work/scratch/atk19d-report.md)."""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from handoff.reconciler.config import PruneSettings, Settings
from handoff.reconciler.loop import Reconciler
from tests.harness.certs import write_serving_certs
from tests.harness.cluster import WorkloadCluster
from tests.reconciler.cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

JOB = """apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: app, image: example.test/migrate:1}]
"""
PATCH = [{"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 0}]


class _Mutate(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {
            "uid": review["request"]["uid"], "allowed": True, "patchType": "JSONPatch",
            "patch": base64.b64encode(json.dumps(PATCH).encode()).decode()}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _webhook(directory: Path) -> Iterator[tuple[int, bytes]]:
    directory.mkdir(parents=True, exist_ok=True)
    certs = write_serving_certs(directory)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Mutate)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.cert_file, certs.key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], certs.ca_file.read_bytes()
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def ttl_webhook(tmp_path: Path) -> Iterator[tuple[int, bytes]]:
    yield from _webhook(tmp_path / "hook")


def _gone(c: Any) -> bool:
    for _ in range(240):
        if c.get("batch/v1", "Job", "migrate") is None:
            return True
        time.sleep(0.5)
    return False


def test_a_job_given_a_ttl_at_admission_is_not_re_run_as_drift(
        workload_cluster: WorkloadCluster, git_server: Any, tmp_path: Path,
        ttl_webhook: tuple[int, bytes]) -> None:
    """The Job in Git has no TTL; the cluster's mutating webhook gives every Job of the namespace
    `ttlSecondsAfterFinished: 0`. The Job completes and the TTL controller deletes it. drift's
    removed_when_finished reads the TTL from the *desired* manifest only, so the next pass calls the
    missing Job drift and re-creates it: the migration runs again on every drift check, forever (and the
    commit flips applying/healthy). The live object the reconciler created said the cluster will remove it
    when finished; that should hold as it does for a TTL written in Git."""
    port, ca = ttl_webhook
    c = new_cluster(workload_cluster, git_server, tmp_path, {"app/job.yaml": JOB})
    admission = kubernetes.client.AdmissionregistrationV1Api(workload_cluster.client)
    name = f"ttl-default-{c.target_ns}"
    hook: Any = {  # the client accepts the plain dict the apiserver takes
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [{"name": "ttl.default.example.io", "admissionReviewVersions": ["v1"],
                      "sideEffects": "None", "failurePolicy": "Fail", "timeoutSeconds": 5,
                      "clientConfig": {"url": f"https://127.0.0.1:{port}/mutate",
                                       "caBundle": base64.b64encode(ca).decode()},
                      "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": c.target_ns}},
                      "rules": [{"apiGroups": ["batch"], "apiVersions": ["v1"], "operations": ["CREATE"],
                                 "resources": ["jobs"], "scope": "Namespaced"}]}]}
    admission.create_mutating_webhook_configuration(hook)
    try:
        source = c.source(name="migrate-dev", env="dev", renderer="plain")
        rec = Reconciler(Settings(sources=(source,), namespace=c.control_ns, prune=PruneSettings(),
                                  leader_election=False), c.client, c.workdir)
        first = rec.reconcile(source)
        assert first.ok, first.message
        live = c.get("batch/v1", "Job", "migrate")
        assert live is None or (live.get("spec") or {}).get("ttlSecondsAfterFinished") == 0, \
            "the webhook did not add the TTL"
        assert _gone(c), "the TTL controller never removed the finished Job"
        again = rec.reconcile(source)
        assert again.ok, again.message
        assert c.get("batch/v1", "Job", "migrate") is None, (
            f"the Job the cluster removed by its (admission-given) TTL after it finished was re-created as "
            f"drift, so it runs again: {again.message}")
    finally:
        admission.delete_mutating_webhook_configuration(name)
