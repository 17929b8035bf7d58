"""atk18: ``source.fetch_key`` promises that "a source without credentials never sees what another's
credentials fetched". Real kube-apiserver + etcd and the git server (which requires its token)."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_source_that_drops_its_credentials_cannot_render_what_they_fetched(
        cluster: Cluster) -> None:  # noqa: F811
    """``web`` follows a pinned commit of the private repository with its Secret; then its spec drops
    ``secretRef``. Its fetch key changes, so the pool makes a new clone, but in the same directory
    (``.sources/NS/web``, no longer "taken"), whose objects the credentials fetched are still there:
    ``checkout`` finds the commit locally and never asks the server, so the credential-less Source is
    applied from the private repository. A Source created without credentials at the same commit is
    refused by the server (the control), and so must the edited one be."""
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    sha = (get_source(c) or {})["status"]["lastAppliedRevision"]
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns),
                   {"spec": {"revision": sha, "secretRef": None, "path": "other"}},
                   content_type="application/merge-patch+json")
    objects.sources_watch.relist()
    rec.drain()
    web = objects.objects[f"{c.target_ns}/web"].source
    assert web.credentials.token_file is None and web.revision == sha
    edited = rec.run_once()
    assert [r.ok for r in edited] == [False], \
        f"a Source without credentials rendered the private repository from the clone its old credentials " \
        f"filled: {[r.message for r in edited]}"
    assert c.get("v1", "ConfigMap", "two") is None
    # and a new credential-less Source of the same URL and commit shares that clone (same fetch key)
    c.client.create(source_object(c, "other-tenant-app", revision=sha, secretRef=None, path="app"))
    objects.sources_watch.relist()
    rec.drain()
    results = {r.source: r for r in rec.run_once()}
    assert not results[f"{c.target_ns}/other-tenant-app"].ok, \
        "a credential-less Source read the private repository through a shared clone"
