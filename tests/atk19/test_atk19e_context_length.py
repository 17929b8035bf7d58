"""atk19e: GitHub's statuses API refuses a ``context`` over 255 characters (422 Validation Failed: seen by
Atlantis, runatlantis/atlantis#2506, fixed by truncating in runatlantis/atlantis#6541). With the
documented sharding advice, ``context: handoff/{env}/{source}``, a Source object's name is
``NAMESPACE/NAME`` (up to 63 + 1 + 253 characters), so a Source with a long generated name gets a context
GitHub refuses: every post fails (logged, counted, retried each pass) and that source never reports, so
`handoff wait --context 'handoff/{env}/{source}'` times out and the gate says "not reported". The status
must still land (a context cut to 255 with a stable hash suffix, which `{source}` still matches, or the
Source stalled with one line naming spec and the limit). Against the GitHub contract server plus
GitHub's length check. Fails today (see /work/scratch/atk19e-report.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handoff.commitstatus.github import GitHubStatuses
from handoff.reconciler.config import Source, StatusSettings
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.report_status import StatusReporter
from handoff.reconciler.sourcecrd import source_name
from handoff.redact import forget_all
from handoff.retry import RetryPolicy
from handoff.workflows.status_context import StatusContext
from tests.commitstatus.servers import GitHubStatusServer
from tests.reconciler.test_f19b_report_status import HEALTHY_3, passed

TOKEN = "ghs_statusOnlyToken0123456789abcdef"
SHA = "f" * 40
MAX_CONTEXT = 255


class LengthCheckingGitHub(GitHubStatusServer):
    def op_repos_create_commit_status(self, params: dict[str, str], query: dict[str, str], body: Any
                                      ) -> tuple[int, Any]:
        if len(body.get("context") or "") > MAX_CONTEXT:
            return 422, {"message": "Validation Failed", "documentation_url":
                         "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
                         "errors": [{"resource": "Status", "code": "custom", "field": "context",
                                     "message": f"context is too long (maximum is {MAX_CONTEXT} characters)"}]}
        return super().op_repos_create_commit_status(params, query, body)


@pytest.fixture
def github() -> Iterator[LengthCheckingGitHub]:
    srv = LengthCheckingGitHub(TOKEN)
    yield srv
    srv.stop()
    forget_all()


def test_a_long_source_name_still_reports_under_the_sharded_context(
        github: LengthCheckingGitHub, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN, encoding="utf-8")
    settings = StatusSettings(kind="github", project="acme/config", api_url=github.base_url,
                              token_file=str(token_file), context="handoff/{env}/{source}")
    # a valid Source object name (a DNS subdomain, at most 253): generated per app, region and cluster
    name = ".".join(["checkout-web-frontend-eu-west-1-production-blue"] * 5)
    assert len(name) <= 253
    source = Source(name=source_name("payments-platform-production", name),
                    url="https://github.com/acme/config.git", env="production", path="apps/checkout")
    reporter = StatusReporter(settings, tmp_path / "reporter", Metrics())
    reporter.report(source, passed(source.name, SHA, HEALTHY_3))
    seen = GitHubStatuses("acme/config", TOKEN, base_url=github.base_url,
                          retry=RetryPolicy(attempts=1, sleep=lambda s: None)).read(SHA)
    picked = StatusContext.of("handoff/{env}/{source}", "production").pick(seen)
    wanted = len(f"handoff/production/{source.name}")
    assert picked is not None and picked.state == "healthy", (
        f"the source's context is {wanted} characters, over GitHub's {MAX_CONTEXT}: its post is refused "
        f"and production never reports (read: {dict(seen)})")
