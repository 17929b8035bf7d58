"""atk19e: per-source contexts (`context: handoff/{env}/{source}`, the Known limits' advice for sources of one
env served by different shards) lose the guarantee the combined context has: "every source known to the
context ... must have applied a commit for it to be healthy" (docs/reconciler.md). Shards a and b of dev
both reported healthy on the old commit; the bump lands and only shard a has applied it yet. Reading with
`--context 'handoff/{env}/{source}'`, wait and promote see only `handoff/dev/a` on the new commit and take
it for the whole env: wait exits 0 and the gate opens though shard b has not applied the image (it may be
about to fail there). b's context on the older commits says b exists and should count as applying. Over the
real git server as the local forge's config repo. Fails today (see /work/scratch/atk19e-report.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.cli import main
from tests.atk19.test_atk19_closed_loop import Repo
from tests.harness.git_server import GitServer

SHARDED = ["--context", "handoff/{env}/{source}"]


@pytest.fixture
def repo(git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    shards = Repo(git_server, tmp_path)
    shards.post(shards.old, "healthy", env="dev/a")  # shard 0 (source a) and shard 1 (source b) of dev
    shards.post(shards.old, "healthy", env="dev/b")
    shards.post(shards.bumped, "healthy", env="dev/a")  # only a has applied the bump so far
    return shards


def test_wait_for_a_commit_waits_for_every_shard_of_the_env(repo: Repo, capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    code = repo.cli("wait", "--env", "dev", "--commit", repo.bumped, "--timeout", "2s", "--interval", "1s",
                    *SHARDED)
    out = capsys.readouterr()
    assert code != 0, (
        f"shard b of dev (handoff/dev/b on the previous commit) has not applied {repo.bumped[:12]}; wait "
        f"must not say dev is healthy there, yet it exits 0: {(out.out + out.err).strip()[-300:]}")


def test_wait_for_an_image_waits_for_every_shard_of_the_env(repo: Repo, capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    code = repo.cli("wait", "--env", "dev", "--image", "registry.example/web:1.1.0", "--timeout", "2s",
                    "--interval", "1s", *SHARDED)
    out = capsys.readouterr()
    assert code != 0, (
        "shard b of dev has not applied the commit carrying web 1.1.0; wait --image must not exit 0: "
        f"{(out.out + out.err).strip()[-300:]}")


def test_the_promote_gate_waits_for_every_shard_of_the_env(repo: Repo, capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    code = main(["promote", "--app", "web", "--from", "dev", "--to", "prod", "--config-repo", repo.url,
                 "--token-env", "STATUS_TOKEN", "--git-username", str(repo.server.username), *SHARDED])
    out = capsys.readouterr()
    assert code != 0, (
        "shard b of dev has not applied web 1.1.0; promote --from dev must not pass the health gate, yet it "
        f"exits 0 and proposes prod: {(out.out + out.err).strip()[-300:]}")
