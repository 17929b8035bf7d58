"""atk19d: the promote gate when the reconciler posts per-source contexts (`context:
handoff/{env}/{source}`, what docs/reconciler.md's Known limits tell sharded setups to use), over the real
git server as the local-forge config repo. Each test FAILS today; its assertion says what should hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.cli import main
from tests.atk19.test_atk19_closed_loop import Repo
from tests.harness.git_server import GitServer


@pytest.fixture
def repo(git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    return Repo(git_server, tmp_path)


def _promote(repo: Repo, *extra: str) -> int:
    return main(["promote", "--app", "web", "--from", "dev", "--to", "prod", "--config-repo", repo.url,
                 "--token-env", "STATUS_TOKEN", "--git-username", str(repo.server.username), *extra])


@pytest.mark.parametrize("context", [[], ["--context", "handoff/{env}/{source}"]],
                         ids=["default-context", "source-placeholder"])
def test_per_source_contexts_do_not_open_the_gate_on_a_degraded_env(
        repo: Repo, context: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """dev runs two shards, each with its own context as the docs advise: handoff/dev/a says degraded,
    handoff/dev/b healthy, on the commit that carries web 1.1.0. `handoff promote --from dev` reads one
    literal context (`handoff/dev`, or `handoff/dev/{source}`: only {env} is filled in), finds no such
    status on any recent commit and reads that as "no reconciler reports dev": the gate passes and the
    degraded image is proposed for prod. It should refuse (a status context of dev exists and is
    degraded), or refuse a --context it cannot fill as a usage error."""
    repo.post(repo.bumped, "degraded", env="dev/a")
    repo.post(repo.bumped, "healthy", env="dev/b")
    code = _promote(repo, *context)
    out = capsys.readouterr()
    assert code != 0, (
        f"dev's shard a is degraded on the commit carrying web 1.1.0; promote {' '.join(context)} must not "
        f"pass the health gate, yet it exits 0: {(out.out + out.err).strip()[-300:]}")
