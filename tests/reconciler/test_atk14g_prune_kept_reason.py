"""atk14g: status names why prune kept an object truthfully. After the operator narrows a source's grant
(namespace `extra` taken away), the repo drops the ConfigMap it had applied there: prune rightly keeps it
(outside the grant, never deleted), but status `prune.kept` must say that, not call it "the reconciler's
own object" (issue 14: objects outside a source's grant are "named in status"; status truthfulness). Real
kube-apiserver + etcd and git server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {n}{ns}}}\ndata: {{k: v}}\n"


def test_an_object_kept_because_it_is_outside_the_grant_is_not_called_the_reconcilers_own(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/a.yaml": CM.format(n="a", ns="")})
    extra = f"extra-{c.target_ns}"
    c.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": extra}})
    c.repo.commit({"app/b.yaml": CM.format(n="b", ns=""), "app/there.yaml": CM.format(n="there", ns=f", namespace: {extra}")},
                  "rev 1: a ConfigMap in a second granted namespace")
    wide = Reconciler(c.settings(renderer="plain", authority=Authority(namespaces=(c.target_ns, extra))),
                      c.client, c.workdir)
    first = wide.reconcile(wide.settings.sources[0])
    assert first.ok, first.message
    # the operator narrows the grant; the repo then drops the object it may no longer touch
    narrow = Reconciler(c.settings(renderer="plain", authority=Authority(namespaces=(c.target_ns,))),
                        c.client, c.workdir)
    c.repo.commit({"app/there.yaml": None}, "rev 2: drop the ConfigMap in the namespace no longer granted")
    second = narrow.reconcile(narrow.settings.sources[0])
    assert second.ok, second.message
    assert c.client.get("v1", "ConfigMap", "there", extra) is not None, "outside the grant: never deleted (held)"
    why = [reason for ref, reason in second.prune_kept if ref.name == "there"]
    assert why and "own object" not in why[0], (
        f"status says ConfigMap/{extra}/there was kept as {why}: it is an ordinary object of this source outside "
        "its (narrowed) grant, not the reconciler's own object; status should name the grant "
        f"(prune_kept={second.prune_kept})")
