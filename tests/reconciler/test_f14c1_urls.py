"""f14c1 (atk14c C11): a Source object (a tenant's) may not name a file:// URL nor a host on the
reconciler's own machine or a link-local / metadata address (SSRF), unless the operator allows private
hosts; config-file sources keep file://. Parse and schema here; the live refusal with its status in
test_f14c1_deletion.py's cluster (real kube-apiserver + etcd)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from handoff.errors import ConfigError
from handoff.reconciler import sourcecrd
from handoff.reconciler.config import Source
from handoff.reconciler.privatehosts import host_of, why_private
from handoff.reconciler.sourcecrd import crd, parse, python_pattern


def _object(url: str) -> dict[str, Any]:
    return {"apiVersion": sourcecrd.API_VERSION, "kind": "Source",
            "metadata": {"namespace": "team-b", "name": "web"}, "spec": {"url": url}}


@pytest.mark.parametrize("url", ["file:///var/cache/handoff/.sources/team-a/web", "/var/cache/handoff/x",
                                 "./repo", "FILE:///etc"])
def test_a_source_object_gets_no_local_url(url: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse(_object(url), allow_private_hosts=True)
    assert e.value.key == "spec.url"
    pattern = crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][
        "url"]["pattern"]
    assert not re.fullmatch(python_pattern(pattern), url)  # the API server refuses it first


def test_a_config_file_source_keeps_file_urls() -> None:
    assert Source(name="web", url="file:///srv/git/config.git").url.startswith("file://")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/config.git", "https://127.9.9.9/c.git", "https://[::1]/c.git",
    "https://localhost/c.git", "ssh://app.localhost/c.git", "git@localhost:org/c.git",
    "http://169.254.169.254/latest/meta-data", "http://[fe80::1]/c.git", "http://[fd00:ec2::254]/",
    "http://0.0.0.0:80/c.git", "http://2130706433/c.git", "http://0x7f.1/c.git", "http://127.1/c.git",
    "https://[::ffff:127.0.0.1]/c.git", "https://LOCALHOST./c.git"])
def test_a_source_object_may_not_name_the_reconcilers_machine_or_link_local_hosts(url: str) -> None:
    assert why_private(url)
    with pytest.raises(ConfigError) as e:
        parse(_object(url))
    assert e.value.key == "spec.url" and "url refused" in e.value.message and host_of(url).rstrip(".") in e.value.message
    assert parse(_object(url), allow_private_hosts=True).source.url == url  # the operator's switch


@pytest.mark.parametrize("url", ["https://github.com/org/c.git", "git@gitlab.com:org/c.git",
                                 "https://10.0.0.7/c.git", "ssh://git.internal:2222/c.git",
                                 "https://127-0-0-1.example.com/c.git"])
def test_ordinary_hosts_are_not_refused(url: str) -> None:
    assert why_private(url) == ""
    assert parse(_object(url)).source.url == url
