"""Which API errors are "retry later" and which are a rejection (handoff.kube.errors.unavailable), and the
real API server's answer to an object etcd refuses as too large."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.kube.errors import KubeError, KubeUnavailable, error_for, unavailable
from handoff.reconciler.apply import wait_established

from .cluster import new_cluster


@pytest.mark.parametrize(("status", "reason", "message"), [
    (429, "TooManyRequests", "too many requests, please try again later"),
    (503, "ServiceUnavailable", "the server is currently unable to handle the request"),
    (504, "Timeout", "the server was unable to return a response in the time allotted"),
    (502, "", "bad gateway"),
    (500, "ServerTimeout", "the server cannot complete the requested operation at this time"),
    (500, "InternalError", "etcdserver: leader changed"),
    (500, "", "Internal error occurred: failed calling webhook"),
])
def test_a_busy_or_unreachable_server_is_unavailability(status: int, reason: str, message: str) -> None:
    assert unavailable(status, reason, message)
    assert isinstance(error_for(status, reason, message, text=message), KubeUnavailable)


@pytest.mark.parametrize(("status", "reason", "message"), [
    (500, "", "etcdserver: request is too large"),
    (500, "InternalError", "Internal error occurred: etcdserver: request is too large"),
    (500, "InternalError", "rpc error: trying to send message larger than max (3000000 vs. 2097152): too large"),
    (413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728"),
    (501, "", "not implemented"),
    (422, "Invalid", "field is immutable"),
    (403, "Forbidden", "exceeded quota"),
    (404, "NotFound", "not found"),
])
def test_a_request_no_retry_can_cure_is_a_rejection(status: int, reason: str, message: str) -> None:
    assert not unavailable(status, reason, message)
    error = error_for(status, reason, message, text=f"PATCH /x: {status} {message}")
    assert not isinstance(error, KubeUnavailable) and error.status == status and str(error).endswith(message)


@pytest.mark.tools
@pytest.mark.slow
def test_the_api_servers_too_large_answer_is_a_rejection_not_unavailability(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": "kind: ConfigMap\n"})
    group = f"{c.target_ns}.example.com"
    c.client.apply({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                    "metadata": {"name": f"blobs.{group}"},
                    "spec": {"group": group, "scope": "Namespaced",
                             "names": {"plural": "blobs", "singular": "blob", "kind": "Blob"},
                             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                                 "openAPIV3Schema": {"type": "object", "properties": {"spec": {
                                     "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}]}})
    wait_established(c.client, f"blobs.{group}")
    blob = {"apiVersion": f"{group}/v1", "kind": "Blob", "metadata": {"name": "big", "namespace": c.target_ns},
            "spec": {"data": "x" * 2_000_000}}
    with pytest.raises(KubeError) as raised:
        c.client.apply(blob)
    assert raised.value.status == 500 and not isinstance(raised.value, KubeUnavailable), raised.value
    assert "too large" in str(raised.value)
