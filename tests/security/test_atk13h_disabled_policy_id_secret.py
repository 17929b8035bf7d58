"""atk13h: a Secret value written as a policy id in ``.handoff.yaml`` (``policies: {disable: [...]}``) reaches the
reconciler's status ConfigMap in clear: ``masked_result`` masks every field of the pass but this one.

``handoff/reconciler/masking.py`` ``masked_result`` masks ``message``, ``pruned``, ``prune_kept``, ``drift`` and
``waivers``; ``disabled_policies`` (the repo's ``policies.disable`` list, any non-empty strings per
``handoff/schemas/handoff-config.schema.json``) goes unmasked into ``handoff/reconciler/status.py``
``status_data`` (``policy.disabled``), which whoever reads the control namespace can see. atk13g's finding 3
(a Secret value in an object name) was fixed by masking the pass result "in the one place": this field
was left out. What should hold: the Secret's value (raw, base64, base32, hex) is found in no status ConfigMap,
whatever field of the pass carries it (mask ``disabled_policies`` too, or refuse an unknown policy id).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.harness.tools import require_tool
from tests.reconciler.cluster import new_cluster
from tests.security.leaks import leaks
from tests.security.test_atk13g_secret_in_object_name_cluster import _cluster_texts

pytestmark = pytest.mark.tools

PASSWORD = "s3cretvalueatk13h-policy"
SECRET = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {PASSWORD}\n"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  mode: a\n"


def test_status_masks_a_secret_value_written_as_a_disabled_policy_id(apiserver: Any, git_server: Any,
                                                                    tmp_path: Path) -> None:
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, {
        ".handoff.yaml": f"policies:\n  disable: [{PASSWORD}]\n",
        "app/kustomization.yaml": "resources: [secret.yaml, cm.yaml]\n", "app/secret.yaml": SECRET,
        "app/cm.yaml": CM})
    rec = c.reconciler()
    result = rec.reconcile(rec.settings.sources[0])
    assert result.ok, result.message
    found = leaks(_cluster_texts(c), [PASSWORD])
    assert found == [], (f"the Secret's value, written as a disabled policy id, is in clear in "
                         f"{sorted({w for w, _, _ in found})}: masked_result leaves PassResult.disabled_policies "
                         f"unmasked")
