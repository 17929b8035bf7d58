"""atk18b: with --hand-over-migrated (the upgrade's step 3), a Source object annotated
``handoff.dev/migrated-from: NAME`` takes config-file source NAME out of service when
``migrate.takes_over`` holds, which compares only url, revision, path and namespace. Anyone who may create
a Source in that namespace (any object name) copies those four, leaves out ``verify``, and the operator's
signature-verified source is replaced by one that applies unsigned commits (equally: another ``env``,
its policy params and waivers; ``prune``; ``renderer``; ``values``). Real kube-apiserver + etcd and git
server."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.reconciler.config import Verification
from handoff.reconciler.migrate import MIGRATED_FROM
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_an_unverified_copy_does_not_take_over_a_verifying_config_file_source(
        cluster: Cluster, tmp_path: Path) -> None:  # noqa: F811
    c = cluster
    signers = tmp_path / "allowed_signers"
    signers.write_text("ops@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperatorKeyOnlyForThisTest\n")
    rec = c.reconciler(name="web", verify=Verification(mode="ssh", allowed_signers=str(signers)))
    copy = source_object(c, "not-the-operators", revision="main", path="app")
    copy["metadata"]["annotations"] = {MIGRATED_FROM: "web"}
    c.client.create(copy)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True, hand_over_migrated=True)
    objects.sources_watch.relist()
    rec.drain()
    served = {s.name: s for s in rec.sources()}
    assert "web" in served, \
        ("a Source without verify took the operator's ssh-verified source 'web' out of service: "
         f"{ {n: s.verify.mode for n, s in served.items()} }")
