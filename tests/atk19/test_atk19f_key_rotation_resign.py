"""atk19f: after ``status.keyFile`` is rotated, a status the reconciler posted before is never signed again
with the new key (nothing is "news" for it), so CI holding the new key reads no verified status for the
commit dev runs: ``wait --commit`` times out and the promote gate refuses until dev deploys again. The
next pass on the same commit re-posts it signed with the new key (atk19f; fixed in
``StatusReporter._post_if_news``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from handoff.reconciler.config import Source
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.report_status import StatusReporter
from tests.atk19.test_atk19e_key_rotation import NEW_KEY, OLD_KEY, _read
from tests.harness.git_server import GitServer
from tests.reconciler.test_f19b_report_status import HEALTHY_3, Remote, passed


@pytest.fixture
def remote(git_server: GitServer, tmp_path: Path) -> Remote:
    return Remote(git_server, tmp_path)


def test_a_rotated_key_re_signs_the_status_of_the_commit_running(remote: Remote, git_server: GitServer,
                                                                  tmp_path: Path) -> None:
    key_file = tmp_path / "status-key"
    key_file.write_bytes(OLD_KEY)
    reporter = StatusReporter(replace(remote.settings, key_file=str(key_file)), tmp_path / "rep", Metrics())
    web = Source(name="web-dev", url=remote.url, env="dev")
    reporter.report(web, passed("web-dev", remote.commit, HEALTHY_3))
    key_file.write_bytes(NEW_KEY)  # rotated; CI now holds NEW_KEY
    reporter.report(web, passed("web-dev", remote.commit, HEALTHY_3))  # the next pass, same commit
    assert _read(remote, git_server, remote.commit, NEW_KEY, tmp_path / "r") is not None, (
        "status.keyFile was rotated and the next pass reported the same commit healthy, but its status is "
        "still signed with the old key only: CI with the new key reads no verified status (wait times "
        "out, the gate refuses) until dev deploys another commit")
