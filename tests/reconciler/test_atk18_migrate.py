"""atk18: the documented upgrade from the ConfigMap form (docs/reconciler.md, "Upgrading from the
ConfigMap form") works as written. Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import base64

import pytest

from handoff.reconciler.migrate import CREDENTIALS_SECRET, sources_to_crd
from handoff.reconciler.objects import OWNER_LABEL, owner_value
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, ready  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_step_3_of_the_upgrade_reaches_ready_while_the_config_file_still_names_the_source(
        cluster: Cluster) -> None:  # noqa: F811
    """Step 3 says: apply the printed Source objects "and wait: ``kubectl wait --for=condition=Ready
    source --all -n NS``"; only step 4 removes the entries from the config file. But the reconciler
    (``--sources-from both``) serves both: the Source object renders the objects the config-file source
    owns and still declares, ``_refuse_conflicts`` (loop.py) refuses it with Conflict on every pass,
    Ready stays False and the wait of step 3 never returns: the procedure cannot be followed as written
    (either the docs order the steps the other way, or the Source takes over a config-file source's
    objects it was migrated from)."""
    c = cluster
    rec = c.reconciler(name="web")  # the config file's source
    assert [r.ok for r in rec.run_once()] == [True]  # step 0: served from the config file
    migrated = sources_to_crd(rec.settings)  # step 2: sources-to-crd
    [obj] = migrated.objects
    assert obj["metadata"]["namespace"] == c.target_ns and obj["spec"]["secretRef"] == {"name": CREDENTIALS_SECRET}
    c.client.apply({"apiVersion": "v1", "kind": "Secret",  # step 3: the Secret, then the objects
                    "metadata": {"name": CREDENTIALS_SECRET, "namespace": c.target_ns},
                    "data": {"token": base64.b64encode(c.token_file.read_bytes()).decode(),
                             "username": base64.b64encode(c.username.encode()).decode()}})
    c.client.create(obj)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True, hand_over_migrated=True)  # --sources-from both
    objects.sources_watch.relist()
    rec.drain()
    results = {r.source: r for r in rec.run_once()}
    condition = ready(c, "web")
    assert condition is not None and condition["status"] == "True", \
        (f"step 3's `kubectl wait --for=condition=Ready` never returns: {condition}; "
         f"{results[f'{c.target_ns}/web'].message}")
    live = c.get("v1", "ConfigMap", "one") or {}
    assert live["metadata"]["labels"][OWNER_LABEL] == owner_value(f"{c.target_ns}/web")
