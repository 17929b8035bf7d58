"""atk14k F2: the drift pass takes over, without ``adopt``, an object the operator re-created or detached.

Attack: the source applied ConfigMap ``app``. The operator then takes the name back: deletes the object and
creates their own ``app`` (no ``handoff.dev/source`` label), or removes the owner label to detach it. The
source's grant has no ``adopt``. The next pass is at the same revision, so ``_pass`` runs only
``_drift_pass``: the object is not among the source's own (listed by owner label), so it counts as
*missing* and is re-applied with a forced server-side apply — no ``_refuse_takeover`` on that path.

Observed: the operator's new object is overwritten and labelled as the source's (not marked adopted); when the
repo later drops ``app``, prune deletes it. Whereas naming the same object in a new revision is refused
(``test_atk14j_takeover_kinds.py``).

Responsible: ``handoff/reconciler/loop.py`` (``_drift_pass``: ``Drift(missing=True)`` then ``apply_one``,
without asking ``adoption.foreign``/``why_not_adopted``).

Should hold: a drift revert never takes over a live object that no handoff source owns unless the grant says
``adopt: true``: it is reported (drift: exists, not this source's) and left alone, as on a new revision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import OWNER_LABEL

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"
OTHER = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: other}}\ndata: {{rev: \"{rev}\"}}\n"


@pytest.mark.parametrize("how", ["recreated", "detached"])
def test_a_drift_revert_does_not_take_over_the_operators_object(
        how: str, apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1),
                                                      "app/other.yaml": OTHER.format(rev=1)})
    rec = Reconciler(c.settings(renderer="plain"), c.client, c.workdir)
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    if how == "recreated":
        c.client.delete("v1", "ConfigMap", "app", c.target_ns)
        c.client.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app", "namespace": c.target_ns},
                        "data": {"operator": "mine"}}, manager="operator")
    else:
        c.client.request("PATCH", f"/api/v1/namespaces/{c.target_ns}/configmaps/app",
                         body={"metadata": {"labels": {OWNER_LABEL: None}}, "data": {"operator": "mine"}},
                         content_type="application/merge-patch+json")
    uid = (c.get("v1", "ConfigMap", "app") or {})["metadata"]["uid"]
    drift = rec.reconcile(source)  # same revision: a drift pass
    live = c.get("v1", "ConfigMap", "app") or {}
    taken = OWNER_LABEL in ((live.get("metadata") or {}).get("labels") or {})
    c.repo.commit({"app/cm.yaml": None, "app/other.yaml": OTHER.format(rev=2)}, "drop app")
    dropped = rec.reconcile(source)
    after = c.get("v1", "ConfigMap", "app")
    assert not taken and after is not None and after["metadata"]["uid"] == uid, (
        f"the operator's {how} ConfigMap app (no owner label) was taken over by the drift pass "
        f"({drift.result}: {drift.message}; owner label now {taken}, data {live.get('data')}), and then "
        f"{'pruned' if after is None else 'kept'} when the repo dropped it (pruned: "
        f"{list(map(str, dropped.pruned))})")
