"""An Event per (Source, type, reason): a repeat with another message counts on it and carries the
latest message. Real kube-apiserver + etcd."""

from __future__ import annotations

import pytest

from handoff.reconciler.events import EventRecorder, Involved
from handoff.reconciler.sourcecrd import KIND
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_events_source import by_reason
from .test_source_crd_live import cluster, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_repeat_with_another_message_counts_on_one_event_with_the_latest_message(
        cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    created = c.client.create(source_object(c, "noisy"))
    about = Involved(ObjectRef(created["apiVersion"], KIND, "noisy", c.target_ns), created["metadata"]["uid"])
    recorder = EventRecorder(c.client)
    for n in (1, 2, 3):
        recorder.record(about, "RenderFailed", f"render failed: request id {n}\x1b[2J", warning=True)
    recorder.record(about, "GitOperationFailed", "git failed", warning=True)
    [failed] = by_reason(c, "noisy", "RenderFailed")
    assert failed["count"] == 3 and failed["message"] == "render failed: request id 3\\x1b[2J"
    assert len(by_reason(c, "noisy", "GitOperationFailed")) == 1  # another reason is another Event
