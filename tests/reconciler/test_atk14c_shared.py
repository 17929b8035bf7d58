"""atk14c: two sources of one reconciler declaring the same object fight over it forever. Each pass
force-applies its own version (server-side apply, forced) and relabels the object; the other source's
next drift pass finds its object "missing" (it lists by owner label) and reverts it back. The live object
flips between two revisions every interval while both sources report Succeeded, and deleting either source
with prune deletes the object the other still declares. Argo CD reports this as SharedResourceWarning;
issue 14's "status always names the revision that is live" cannot hold for it. Real kube-apiserver +
etcd and git server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import PruneSettings, Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.status import SUCCEEDED

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: shared}}\ndata: {{by: {by}}}\n"


def test_a_source_does_not_take_over_an_object_another_source_of_the_reconciler_applied(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"a/cm.yaml": CM.format(by="a"),
                                                      "b/cm.yaml": CM.format(by="b")})
    a = c.source(name="a", path="a", renderer="plain")
    b = c.source(name="b", path="b", renderer="plain")
    rec = Reconciler(Settings(sources=(a, b), namespace=c.control_ns, prune=PruneSettings(),
                              leader_election=False), c.client, c.workdir)
    assert rec.reconcile(a).ok
    seen = []
    results = []
    for _ in range(2):
        for source in (b, a):
            results.append(rec.reconcile(source))
            seen.append(((c.get("v1", "ConfigMap", "shared") or {}).get("data") or {}).get("by"))
    assert seen.count(seen[0]) == len(seen), \
        f"two sources flip ConfigMap shared on every pass: {seen}, {[r.message for r in results]}"
    assert results[0].result != SUCCEEDED, \
        f"source b took over source a's object and reported {results[0].result}: {results[0].message}"
