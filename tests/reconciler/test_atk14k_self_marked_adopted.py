"""atk14k F7 (low): a repo marks its own new objects ``handoff.dev/adopted: "true"`` and they are never pruned.

Attack: the repo's manifest of a *new* object (the source creates it; nothing existed) carries the reserved
annotation ``handoff.dev/adopted: "true"``. ``prune.execute`` reads ``adoption.adopted(live)``, the live
annotation, whoever wrote it. No ``adopt`` grant is needed.

Observed: dropped from the repo, the object stays (``prune.kept``: "not pruned: adopted (it existed before
the source applied it …)" — it did not), still labelled as the source's; the repo decides which of its
objects outlive it (and a deleted Source object's finalizer prune leaves them too).

Responsible: ``handoff/reconciler/adoption.py`` (``adopted``), ``handoff/reconciler/loop.py`` (``_prepare``
lets the repo write the reserved annotation), ``handoff/reconciler/prune.py`` (``execute``).

Should hold: ``handoff.dev/adopted`` is written only by the reconciler (``handoff-adoption`` manager, an object
that existed before the source): a manifest setting it is refused, or the key dropped before applying, and
prune trusts the mark only when the reconciler put it there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.loop import Reconciler

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"
MARKED = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: immortal\n"
          "  annotations: {handoff.dev/adopted: \"true\"}\ndata: {x: \"1\"}\n")


def test_a_repo_cannot_mark_its_own_objects_adopted_to_escape_prune(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    rec = Reconciler(c.settings(renderer="plain"), c.client, c.workdir)
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/immortal.yaml": MARKED, "app/cm.yaml": CM.format(rev=2)}, "a new, self-marked object")
    created = rec.reconcile(source)
    c.repo.commit({"app/immortal.yaml": None, "app/cm.yaml": CM.format(rev=3)}, "drop it")
    dropped = rec.reconcile(source)
    left = c.get("v1", "ConfigMap", "immortal")
    assert not (created.ok and left is not None), (
        f"ConfigMap immortal, created by the source ({created.result}) with a self-written "
        f"handoff.dev/adopted annotation, was not pruned when dropped ({dropped.result}; kept: "
        f"{[(str(r), why) for r, why in dropped.prune_kept]})")
