"""atk14k F1: the repo overrides the ``handoff.dev/adopted`` mark, and prune then deletes the operator's object.

Attack: the operator grants ``adopt: true`` (migrating from kubectl). The source adopts the operator's
ConfigMap ``operator-data``: ``_write`` applies the marker (``handoff.dev/adopted: "true"``) under the field
manager ``handoff-adoption``, then the repo's manifest under ``handoff`` with ``force=true``. The repo's
manifest itself sets ``metadata.annotations["handoff.dev/adopted"]: "false"``: the forced apply takes the
field over from ``handoff-adoption`` and writes ``"false"``. The next revision drops the object.

Observed: the first pass SUCCEEDED with the annotation ``"false"`` on the live object; the next pass pruned
``ConfigMap/<ns>/operator-data`` — the operator's object, which existed before the source, deleted.

Responsible: ``handoff/reconciler/adoption.py`` (``adopted`` reads a value any forced apply can rewrite;
``marker``), ``handoff/reconciler/loop.py`` (``_write``: the repo's manifest is applied with force over the
marker's field; ``_prepare`` does not strip or refuse the reserved annotation), ``prune.py`` (``execute``).
docs/reconciler.md ("so the source's own applies never remove the mark", "never pruned") and
docs/SECURITY.md (row "an object the cluster already has …": "never pruned") say otherwise.

Should hold: the adopted mark is the reconciler's, not the repo's: a manifest setting ``handoff.dev/adopted``
is refused (or the key is dropped before the apply), and an object adopted once is never pruned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.status import SUCCEEDED

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"
FORGED = """apiVersion: v1
kind: ConfigMap
metadata:
  name: operator-data
  annotations: {handoff.dev/adopted: "false"}
data: {orders: "42"}
"""


def test_a_repo_cannot_unmark_an_adopted_object_and_have_it_pruned(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    c.client.apply({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "operator-data", "namespace": c.target_ns},
                    "data": {"orders": "42"}}, manager="operator")
    uid = (c.get("v1", "ConfigMap", "operator-data") or {})["metadata"]["uid"]
    rec = Reconciler(c.settings(renderer="plain", authority=Authority(namespaces=(c.target_ns,), adopt=True)),
                     c.client, c.workdir)
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/data.yaml": FORGED, "app/cm.yaml": CM.format(rev=2)}, "adopt, and unmark it")
    first = rec.reconcile(source)
    live = c.get("v1", "ConfigMap", "operator-data") or {}
    mark = ((live.get("metadata") or {}).get("annotations") or {}).get("handoff.dev/adopted")
    c.repo.commit({"app/data.yaml": None, "app/cm.yaml": CM.format(rev=3)}, "drop it")
    second = rec.reconcile(source)
    after = c.get("v1", "ConfigMap", "operator-data")
    assert after is not None and after["metadata"]["uid"] == uid, (
        f"the operator's ConfigMap operator-data, adopted (pass 1: {first.result}, live mark "
        f"handoff.dev/adopted={mark!r}: the repo's forced apply overrode the handoff-adoption manager), was "
        f"pruned when the repo dropped it (pass 2: {second.result}, pruned {list(map(str, second.pruned))})")
    assert second.result == SUCCEEDED
