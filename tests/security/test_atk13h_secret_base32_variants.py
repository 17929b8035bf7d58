"""atk13h: a Secret value re-encoded as *lower-case* or *unpadded* base32 (``b32enc | lower``,
``b32enc | trimAll "="``) passes every mask; issue 13 asks that the value's base32 form be found nowhere.

``handoff/manifests/sensitive.py`` ``_encoded_forms`` lists one base32 spelling, ``base64.b32encode(raw)``:
upper case, padded; ``KnownValues`` then matches it case-sensitively. Base32 carries no information in its
case (RFC 4648 decoders accept either) and its padding is optional, and a lower-case one is what a DNS name
can hold: a chart stamps ``{{ .Values.password | b32enc | lower | trimAll "=" }}`` into a ConfigMap, or into an
object's *name* (``mask_ref`` on the cluster side uses the same list).

- CI side: the PR body's rendered diff (``rendered_diff``, also used by promote) shows a ConfigMap's
  lower-case/unpadded base32 copy of the Secret value. (``propose`` end to end held: it refuses a bump that
  changes a non-image field with an error quoting no value.)
- cluster side: a ConfigMap named ``cfg-<lower base32 of the password>``, drifted by an intruder, is named in
  clear in the DriftDetected/DriftReverted Events and the status ConfigMap (``masked_result`` →
  ``KnownValues.mask_ref``).

What should hold: base32 is matched case-insensitively and with or without padding (as ``tests/security/
leaks.py`` searches it), everywhere ``KnownValues`` masks.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from handoff.manifests.model import RenderedObject
from handoff.report.model import ObjectRef
from handoff.workflows.propose import rendered_diff
from tests.harness.tools import require_tool
from tests.reconciler.cluster import new_cluster
from tests.security.leaks import leaks
from tests.security.test_atk13g_secret_in_object_name_cluster import _cluster_texts
from tests.security.test_secret_values import stamped


def _b32(value: str) -> str:
    return base64.b32encode(value.encode()).decode()


def test_rendered_diff_masks_lower_case_and_unpadded_base32_of_a_secret_value() -> None:
    def objects(tag: str) -> list[RenderedObject]:
        value = stamped(tag)
        return [RenderedObject({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web-credentials"},
                                "stringData": {"password": value}}, "secret.yaml", 1),
                RenderedObject({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-echo"},
                                "data": {"lower": _b32(value).lower(), "unpadded": _b32(value).rstrip("=")}},
                               "echo.yaml", 1)]
    diff = rendered_diff(objects("1.0.0"), objects("1.1.0"), "dev")
    assert "web-echo" in diff
    found = leaks({"rendered diff": diff}, [stamped("1.0.0"), stamped("1.1.0")])
    assert found == [], (f"the PR body's rendered diff shows the Secret value as lower-case/unpadded base32 "
                         f"(sensitive._encoded_forms knows only upper-case padded b32): {found}\n{diff}")


CLUSTER_PASSWORD = "s3cretvalueatk13h-b32x"  # 22 bytes: its base32 is padded, lower-cased a DNS label
SECRET = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {CLUSTER_PASSWORD}\n"
NAME = "cfg-" + _b32(CLUSTER_PASSWORD).rstrip("=").lower()
CM = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {NAME}\ndata:\n  mode: a\n"


@pytest.mark.tools
def test_drift_events_and_status_mask_an_object_name_carrying_lower_case_base32_of_a_secret(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, {
        "app/kustomization.yaml": "resources: [secret.yaml, cm.yaml]\n", "app/secret.yaml": SECRET,
        "app/cm.yaml": CM})
    rec = c.reconciler()
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.client.patch(ObjectRef("v1", "ConfigMap", NAME, c.target_ns), {"data": {"mode": "b"}},
                   content_type="application/merge-patch+json", params={"fieldManager": "intruder"})
    assert rec.reconcile(source).drift
    found = leaks(_cluster_texts(c), [CLUSTER_PASSWORD])
    assert found == [], (f"a ConfigMap named after the Secret value's lower-case base32 is named in clear in "
                         f"Events/status (mask_ref masks upper-case padded b32 only): "
                         f"{sorted({(w, f) for w, _, f in found})}")
