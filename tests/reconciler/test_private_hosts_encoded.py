"""A Source URL's host is read as git's transport reads it: percent-decoded (privatehosts.py, issue 14
atk14d D6). Encoded, double-encoded and mixed spellings of the reconciler's own machine are refused, and
so is a host that decodes to something no host name can hold."""

from __future__ import annotations

import pytest

from handoff.reconciler.privatehosts import host_of, why_private


@pytest.mark.parametrize("url", [
    "http://%31%32%37%2e%30%2e%30%2e%31:8080/repo.git",
    "https://%2531%2532%2537.0.0.1/repo.git",  # double-encoded
    "http://%6c%6f%63%61%6c%68%6f%73%74/repo.git",  # localhost
    "http://[%3a%3a1]/repo.git",
    "http://169.254.%31%36%39.254/latest",
    "ssh://git@%30x7f000001/repo.git",
])
def test_percent_encoded_private_hosts_are_refused(url: str) -> None:
    assert why_private(url)


@pytest.mark.parametrize("url", ["http://ex%20ample.com/repo.git", "http://a%25zz.example.com/repo.git",
                                 "http://%2f%2fevil/repo.git"])
def test_a_host_that_is_no_host_once_decoded_is_refused(url: str) -> None:
    assert "not a host name or address" in why_private(url)


@pytest.mark.parametrize("url", ["https://github.com/org/repo.git", "https://git%2eexample%2ecom/repo.git",
                                 "git@github.com:org/repo.git", "http://[fd12::1%25eth0]/repo.git"])
def test_public_hosts_still_pass(url: str) -> None:
    assert why_private(url) == ""


def test_host_of_decodes_the_host() -> None:
    assert host_of("https://git%2Eexample%2Ecom/repo.git") == "git.example.com"
