"""The seed's loop, end to end, on real components: an image pushed to the harness registry is proposed to
dev (digest resolved from the registry, the local forge's rolling branch), merged with git, applied by a
reconciler from its config file to the workload cluster (controller-manager, scheduler, KWOK), where the
Deployment rolls out; the commit status says healthy, ``handoff wait`` returns 0, a change by another field
manager is reverted and reported, and ``handoff promote`` proposes the same digest to prod. When the new
image's pods fail: degraded, ``handoff wait`` exits 1, and promotion is refused while dev is unhealthy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.workflows.promote import EXIT_UNHEALTHY
from tests.e2e.world import Loop, eventually
from tests.harness.cluster import WorkloadCluster
from tests.harness.git_server import GitServer
from tests.harness.registry import Registry

pytestmark = [pytest.mark.tools, pytest.mark.slow]


@pytest.fixture
def loop(workload_cluster: WorkloadCluster, git_server: GitServer, registry: Registry, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Loop]:
    monkeypatch.setenv("LOOP_GIT_TOKEN", str(git_server.password))
    world = Loop(workload_cluster, git_server, registry, tmp_path)
    with world.running():
        # the starting revision (1.0.0 everywhere) is applied and healthy before CI does anything
        eventually("the first revision rolled out", lambda: world.available("web") == 2)
        yield world


def _container_image(live: dict[str, object]) -> str:
    spec = live["spec"]
    assert isinstance(spec, dict)
    return str(spec["template"]["spec"]["containers"][0]["image"])


def test_image_to_prod_proposal_through_a_healthy_dev(loop: Loop, capsys: pytest.CaptureFixture[str]) -> None:
    pinned = loop.push_image("web", "1.1.0")

    assert loop.propose("web", "1.1.0") == 0
    assert f"image: {pinned} # handoff:image web" in loop.show("handoff/dev/web", "envs/dev/web.yaml")
    merged = loop.merge("handoff/dev/web")

    # the reconciler pulls the merge, applies it, the controllers roll it out, the commit turns healthy
    status = eventually("the merge commit healthy",
                        lambda: (s := loop.statuses(merged).get("handoff/dev")) and s.state == "healthy" and s)
    assert status.description.startswith("healthy")
    live = loop.live("web")
    assert _container_image(live) == pinned
    assert live["status"]["updatedReplicas"] == live["status"]["availableReplicas"] == 2
    capsys.readouterr()
    assert loop.cli("wait", "--env", "dev", "--image", pinned, "--timeout", "5m", "--interval", "500ms") == 0
    assert f"dev is healthy at {merged[:12]}" in capsys.readouterr().out

    # someone scales it by hand (a merge patch as `kubectl patch` sends it): reverted and reported
    path = loop.client.resource("apps/v1", "Deployment").path(loop.target_ns, "web")
    loop.client.request("PATCH", path, params={"fieldManager": "kubectl"}, body={"spec": {"replicas": 5}},
                        content_type="application/merge-patch+json")
    eventually("the hand-made change reverted", lambda: loop.live("web")["spec"]["replicas"] == 2)
    reverted = eventually("a DriftReverted Event", lambda: loop.events("DriftReverted"))
    assert any("spec.replicas by kubectl" in e["message"] for e in reverted), reverted
    assert loop.reconciler.metrics.drifted.labels(loop.name)._value.get() >= 1
    assert "spec.replicas" in eventually("drift in the source's status", lambda: loop.source_status().get("drift"))
    # while it was scaled to 5 a pass may have seen it progressing (applying); back at 2 it is healthy again
    eventually("the merge commit healthy again", lambda: loop.statuses(merged)["handoff/dev"].state == "healthy")

    capsys.readouterr()
    assert loop.cli("promote", "--app", "web", "--from", "dev", "--to", "prod") == 0
    assert f"image: {pinned} # handoff:image web" in loop.show("handoff/prod/web", "envs/prod/web.yaml")
    assert loop.show("main", "envs/prod/web.yaml") == loop.show(f"{merged}~1", "envs/prod/web.yaml")

    capsys.readouterr()
    assert loop.cli("status") == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[1][:5] == ["web", "dev", pinned, merged[:12], "healthy"]
    assert rows[1][5:] == ["pending", "to", "prod"]  # the prod proposal is open, not merged


def test_failing_pods_degrade_dev_and_promotion_is_refused(loop: Loop, workload_cluster: WorkloadCluster,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    pinned = loop.push_image("web", "1.2.0")
    workload_cluster.fail_pods(pinned)  # the image as the pod spec will name it: tag@digest

    assert loop.propose("web", "1.2.0") == 0
    merged = loop.merge("handoff/dev/web")

    status = eventually("the merge commit degraded",
                        lambda: (s := loop.statuses(merged).get("handoff/dev")) and s.state == "degraded" and s)
    assert "degraded" in status.description
    assert _container_image(loop.live("web")) == pinned
    conditions = {c["type"]: c for c in loop.live("web")["status"]["conditions"]}
    assert conditions["Progressing"]["reason"] == "ProgressDeadlineExceeded"
    capsys.readouterr()
    assert loop.cli("wait", "--env", "dev", "--image", pinned, "--timeout", "5m", "--interval", "500ms") == 1
    assert f"dev is degraded at {merged[:12]}" in capsys.readouterr().out

    assert loop.cli("promote", "--app", "web", "--from", "dev", "--to", "prod") == EXIT_UNHEALTHY
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"dev is degraded at {merged[:12]}" in err[0], err
    assert "handoff/prod/web" not in loop.branches()
