"""atk19e: GitLab refuses a commit status whose ``target_url`` is over 255 characters (a limit added in
GitLab 17.x: https://gitlab.com/gitlab-org/gitlab/-/issues/501079 "Gitlab API request to create a commit
status is failing if target_url field is greater than 255 chars", validation error 400). The reconciler's
``status.targetUrl`` is checked at load only for its placeholders; a dashboard link filled with the
40-hex revision and a source name easily passes 255, and then every post of every revision fails (the
400 is taken for "already in that state", read back, found absent and raised): no status ever lands, so
`handoff wait` times out (124) on every deployment and the promote gate never opens. The state must still
be posted (the link dropped or shortened, or the template refused at load, with one line naming
status.targetUrl). Against the GitLab contract server, with GitLab's documented length check added.
Fails today (see /work/scratch/atk19e-report.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handoff.commitstatus.gitlab import GitLabStatuses
from handoff.reconciler.config import Source, StatusSettings
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.report_status import StatusReporter
from handoff.redact import forget_all
from handoff.retry import RetryPolicy
from tests.commitstatus.servers import GitLabStatusServer
from tests.reconciler.test_f19b_report_status import HEALTHY_3, passed

TOKEN = "glpat-statusOnlyToken0123456789"
SHA = "e" * 40
MAX_TARGET_URL = 255
DASHBOARD = ("https://grafana.example.com/d/8f3c2a1b/platform-deployments?orgId=1&var-env={env}"
             "&var-source={source}&var-revision={revision}&var-cluster=eu-west-1-production-primary"
             "&var-namespace=platform-observability&from=now-6h&to=now&refresh=30s&viewPanel=12")


class LengthCheckingGitLab(GitLabStatusServer):
    def op_create_commit_status(self, params: dict[str, str], query: dict[str, str], body: Any
                                ) -> tuple[int, Any]:
        if len(body.get("target_url") or "") > MAX_TARGET_URL:
            return 400, {"message": {"target_url": [f"is too long (maximum is {MAX_TARGET_URL} characters)"]}}
        return super().op_create_commit_status(params, query, body)


@pytest.fixture
def gitlab() -> Iterator[LengthCheckingGitLab]:
    srv = LengthCheckingGitLab(TOKEN)
    yield srv
    srv.stop()
    forget_all()


def test_a_long_target_url_does_not_stop_every_status(gitlab: LengthCheckingGitLab, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN, encoding="utf-8")
    settings = StatusSettings(kind="gitlab", project="acme/config", api_url=gitlab.url,
                              token_file=str(token_file), target_url=DASHBOARD)
    source = Source(name="web-dev", url="https://gitlab.example.com/acme/config.git", env="dev")
    filled = DASHBOARD.format(env="dev", source="web-dev", revision=SHA)
    assert len(filled) > MAX_TARGET_URL, len(filled)
    reporter = StatusReporter(settings, tmp_path / "reporter", Metrics())
    reporter.report(source, passed("web-dev", SHA, HEALTHY_3))
    reporter.report(source, passed("web-dev", SHA, HEALTHY_3))  # the next pass tries again
    seen = GitLabStatuses("acme/config", TOKEN, base_url=gitlab.url,
                          retry=RetryPolicy(attempts=1, sleep=lambda s: None)).read(SHA).get("handoff/dev")
    assert gitlab.violations == [], "\n".join(gitlab.violations)
    assert seen is not None and seen.state == "healthy", (
        f"status.targetUrl fills to {len(filled)} characters, over GitLab's {MAX_TARGET_URL}: every post is "
        f"refused and dev never reports (read: {seen}); the state must still be posted")
