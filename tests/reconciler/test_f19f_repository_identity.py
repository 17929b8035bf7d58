"""f19f (atk19d 3, 4): one spelling per repository and per branch, so the statuses of sources that
spell one place two ways combine worst-wins and wait for each other."""

from __future__ import annotations

import pytest

from handoff.reconciler.report_status import branch_identity, repository_identity


@pytest.mark.parametrize("url", ["http://h/config.git", "http://h/config.git/", "http://h/config",
                                 "http://H/config/", "http://user:secret@h/config.git", "http://h:80/config"])
def test_spellings_of_one_repository_are_one_identity(url: str) -> None:
    assert repository_identity(url) == "http://h/config"


def test_the_credentials_never_reach_the_identity() -> None:
    assert "secret" not in repository_identity("https://x-access-token:secret@github.com/o/r.git")


@pytest.mark.parametrize(("one", "other"), [("git@GitHub.com:o/r.git", "ssh://git@github.com/o/r"),
                                            ("https://h:8443/o/r", "https://h:8443/o/r.git/")])
def test_scp_like_and_explicit_ports(one: str, other: str) -> None:
    assert repository_identity(one) == repository_identity(other)


@pytest.mark.parametrize(("one", "other"), [("http://h/a", "http://h/b"), ("http://h/a", "https://h/a"),
                                            ("https://h:8443/a", "https://h/a"), ("http://h/o/a", "http://g/o/a")])
def test_different_repositories_stay_apart(one: str, other: str) -> None:
    assert repository_identity(one) != repository_identity(other)


def test_a_branch_and_its_full_ref_are_one_branch() -> None:
    assert branch_identity("refs/heads/main") == branch_identity("main") == "main"
    assert branch_identity("release") != branch_identity("main")
