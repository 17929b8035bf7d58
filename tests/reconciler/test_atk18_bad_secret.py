"""atk18: one tenant's unusable Source must never stop the reconciler serving the others. Real
kube-apiserver + etcd and git server."""

from __future__ import annotations

import base64

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, ready, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


@pytest.mark.parametrize("key", ["username", "token"])
def test_a_secret_whose_username_is_not_utf8_stalls_its_source_not_the_reconciler(
        cluster: Cluster, key: str) -> None:  # noqa: F811
    """Secret data is bytes: the API server takes a ``username`` that is not UTF-8. A Source naming that
    Secret must be Stalled (a reason, a one-line message) while every other Source keeps being served.
    Today ``sourcecrd.parse`` reads the username with ``read_text(encoding="utf-8")`` and raises
    UnicodeDecodeError, which is no ConfigError: it escapes ``SourceObjects.changed``, ``Reconciler.drain``
    (no handler) and ``Reconciler.run``, which the CLI runs on the main thread: the process exits, and on
    restart the first relist hits the same Secret, a crash loop for every tenant. A ``token`` that is not
    UTF-8 does the same one step later: ``source.git_env`` reads it with ``read_text`` when
    ``Reconciler.set_source`` builds the clone."""
    c = cluster
    c.client.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "odd", "namespace": c.target_ns},
                    "data": {"token": base64.b64encode(c.token_file.read_bytes()).decode(),
                             "username": base64.b64encode(c.username.encode()).decode(),
                             key: base64.b64encode(b"\xff\xfe\xfa").decode()}})
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, "bad", secretRef={"name": "odd"}))
    c.client.create(source_object(c, "good", path="other"))
    objects.sources_watch.relist()
    try:
        rec.drain()
    except Exception as e:  # the finding: what escapes takes the whole reconciler down
        pytest.fail(f"one Source's Secret escaped the loop's thread ({type(e).__name__}: {e}); "
                    "Reconciler.run would exit and take every other source with it")
    assert f"{c.target_ns}/good" in {s.name for s in rec.sources()}
    condition = ready(c, "bad")
    assert condition is not None and condition["status"] == "False", condition
    assert [r.ok for r in rec.run_once()] == [True]  # the good one
