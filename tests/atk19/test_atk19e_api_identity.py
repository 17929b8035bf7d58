"""atk19e: with ``status.kind: github`` (or gitlab) every source posts to the one ``status.project``, but the
reporter groups sources by the spelling of their own git URL (``repository_identity``). Two clusters of dev
fetching the same GitHub repository over ssh and over https, or with the owner spelled in another case
(GitHub's owner/name are case-insensitive), land on the same commit and context yet are combined apart:
the later healthy overwrites the earlier degraded. Against the GitHub contract server (requests and
answers checked against GitHub's OpenAPI description). Fails today (see /work/scratch/atk19e-report.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.commitstatus.github import GitHubStatuses
from handoff.reconciler.config import Source, StatusSettings
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.report_status import StatusReporter
from handoff.reconciler.sourcecrd import API_VERSION, KIND, parse
from handoff.redact import forget_all
from handoff.retry import RetryPolicy
from tests.commitstatus.servers import GitHubStatusServer
from tests.reconciler.test_f19b_report_status import DEGRADED_1, HEALTHY_3, passed

TOKEN = "ghs_statusOnlyToken0123456789abcdef"
SHA = "c" * 40

SPELLINGS = {
    "ssh-scp-vs-https": ("https://github.com/acme/config.git", "git@github.com:acme/config.git"),
    "ssh-url-vs-https": ("https://github.com/acme/config", "ssh://git@github.com/acme/config.git"),
    "owner-case": ("https://github.com/acme/config.git", "https://github.com/Acme/Config.git"),
}


@pytest.fixture
def github() -> Iterator[GitHubStatusServer]:
    srv = GitHubStatusServer(TOKEN)
    yield srv
    srv.stop()
    forget_all()


@pytest.mark.parametrize("a_url,b_url", list(SPELLINGS.values()), ids=list(SPELLINGS))
def test_sources_of_one_github_project_combine_whatever_their_url_spelling(
        github: GitHubStatusServer, tmp_path: Path, a_url: str, b_url: str) -> None:
    """b (degraded) reports first, then a (healthy) on the same commit: both post `handoff/dev` to
    acme/config, so dev must read degraded (worst wins); today a's healthy replaces b's degraded."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN, encoding="utf-8")
    settings = StatusSettings(kind="github", project="acme/config", api_url=github.base_url,
                              token_file=str(token_file))
    reporter = StatusReporter(settings, tmp_path / "reporter", Metrics())
    a = Source(name="a", url=a_url, env="dev", path="a")
    b = Source(name="b", url=b_url, env="dev", path="b")
    reporter.report(b, passed("b", SHA, DEGRADED_1))
    reporter.report(a, passed("a", SHA, HEALTHY_3))
    seen = GitHubStatuses("acme/config", TOKEN, base_url=github.base_url,
                          retry=RetryPolicy(attempts=1, sleep=lambda s: None)).read(SHA).get("handoff/dev")
    assert github.violations == [], "\n".join(github.violations)
    assert seen is not None and seen.state == "degraded", (
        f"a ({a_url}) and b ({b_url}) both post handoff/dev to acme/config on {SHA[:12]}; b is degraded, so "
        f"dev should read degraded, not {seen}")


def test_a_tenant_source_spelling_the_url_over_ssh_does_not_hide_the_envs_degraded(
        github: GitHubStatusServer, tmp_path: Path) -> None:
    """The hostile form of the same break: a tenant (namespace team-a) creates a Source object following
    the shared config repo over ssh, `env: dev`, at a path rendering something trivially healthy. The
    operator's dev source (https) is degraded on the commit; the tenant's pass comes after it and its
    healthy replaces dev's degraded on acme/config, which opens the promote gate for a degraded dev."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN, encoding="utf-8")
    settings = StatusSettings(kind="github", project="acme/config", api_url=github.base_url,
                              token_file=str(token_file))
    reporter = StatusReporter(settings, tmp_path / "reporter", Metrics())
    operator = Source(name="web-dev", url="https://github.com/acme/config.git", env="dev", path="envs/dev")
    tenant = parse({"apiVersion": API_VERSION, "kind": KIND,
                    "metadata": {"namespace": "team-a", "name": "web", "uid": "u-1", "generation": 1},
                    "spec": {"url": "git@github.com:acme/config.git", "path": "teams/team-a", "env": "dev"}},
                   secrets_needed=False).source
    reporter.report(operator, passed(operator.name, SHA, DEGRADED_1))
    reporter.report(tenant, passed(tenant.name, SHA, HEALTHY_3))
    seen = GitHubStatuses("acme/config", TOKEN, base_url=github.base_url,
                          retry=RetryPolicy(attempts=1, sleep=lambda s: None)).read(SHA).get("handoff/dev")
    assert seen is not None and seen.state == "degraded", (
        f"the tenant's Source {tenant.name} ({tenant.url}) replaced dev's degraded (operator source "
        f"{operator.url}) with {seen}")
