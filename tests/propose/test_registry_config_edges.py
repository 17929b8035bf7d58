"""Docker config.json as careless operators and odd machines leave it, and credential helpers that
misbehave: each is either read as the Docker CLI reads it or fails in one line, and a misbehaving
helper never blocks the job or outlives it."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import pytest

from handoff.errors import RegistryError
from handoff.registry import EngineResolver, RegistryClient, digest_resolver, docker_credentials
from handoff.registry.credentials import Credentials
from tests.propose.credential_helper import write_docker_config

SECRET = "edge-Secret-0123456789abcdef"


def _helper(bin_dir: Path, name: str, body: str) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    program = bin_dir / f"docker-credential-{name}"
    program.write_text("#!/bin/sh\n" + body)
    program.chmod(0o755)


def _alive(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text()), 0)
    except (ProcessLookupError, ValueError, FileNotFoundError):
        return False
    return True


@pytest.mark.parametrize("content", [b"", b"  \n", b"\xef\xbb\xbf{}"], ids=["empty", "blank", "bom"])
def test_an_empty_or_bom_config_is_no_configuration(tmp_path: Path, content: bytes) -> None:
    """The Docker CLI reads an empty config.json as no configuration; a PowerShell-written one has a BOM."""
    env = write_docker_config(tmp_path / "docker", {})
    (tmp_path / "docker" / "config.json").write_bytes(content)
    assert docker_credentials("ghcr.io", env) is None


def test_a_bom_config_with_auths_is_read(tmp_path: Path) -> None:
    good = base64.b64encode(f"bot:{SECRET}".encode()).decode()
    env = write_docker_config(tmp_path / "docker", {})
    (tmp_path / "docker" / "config.json").write_bytes(
        b"\xef\xbb\xbf" + json.dumps({"auths": {"ghcr.io": {"auth": good}}}).encode())
    assert docker_credentials("ghcr.io", env) == Credentials("bot", SECRET)


def test_a_legacy_auths_key_with_scheme_and_path_matches_its_host(tmp_path: Path) -> None:
    """`https://ghcr.io/v1/` (older docker logins) is ghcr.io, as docker's ConvertToHostname has it."""
    good = base64.b64encode(f"bot:{SECRET}".encode()).decode()
    env = write_docker_config(tmp_path / "docker", {"auths": {"https://ghcr.io/v1/": {"auth": good},
                                                               "other.example/v2": {"auth": "x"}}})
    assert docker_credentials("ghcr.io", env) == Credentials("bot", SECRET)
    assert docker_credentials("quay.io", env) is None


@pytest.mark.parametrize("config", [{"auths": ["ghcr.io"]}, {"credHelpers": {"ghcr.io": None}},
                                    {"credsStore": 5}, {"credHelpers": "ecr-login"}],
                         ids=["auths-list", "helper-null", "store-int", "helpers-string"])
def test_malformed_tables_are_ignored_as_docker_does(tmp_path: Path, config: dict[str, object]) -> None:
    assert docker_credentials("ghcr.io", write_docker_config(tmp_path / "docker", config)) is None


def test_a_hanging_helper_and_its_children_are_killed_at_the_timeout(tmp_path: Path) -> None:
    """A helper that never answers (here: one that leaves a child holding its output) is killed with its
    whole process group after HANDOFF_CREDENTIAL_HELPER_TIMEOUT seconds, with a one-line error."""
    pid_file = tmp_path / "child.pid"
    _helper(tmp_path / "bin", "hang", f"sleep 300 &\necho $! > {pid_file}\nwait\n")
    env = write_docker_config(tmp_path / "docker", {"credsStore": "hang"})
    env.update(PATH=f"{tmp_path / 'bin'}:/usr/bin:/bin", HANDOFF_CREDENTIAL_HELPER_TIMEOUT="1")
    with pytest.raises(RegistryError, match=r"docker-credential-hang timed out after 1 s .*; killed$"):
        docker_credentials("ghcr.io", env)
    for _ in range(50):
        if not _alive(pid_file):
            break
        time.sleep(0.1)
    assert not _alive(pid_file), "the helper's child outlived the timeout"


def test_a_helper_that_closes_its_output_but_keeps_running_is_killed(tmp_path: Path) -> None:
    _helper(tmp_path / "bin", "lurk", "exec 1>&- 2>&-\nsleep 300\n")
    env = write_docker_config(tmp_path / "docker", {"credHelpers": {"ghcr.io": "lurk"}})
    env.update(PATH=f"{tmp_path / 'bin'}:/usr/bin:/bin", HANDOFF_CREDENTIAL_HELPER_TIMEOUT="1")
    with pytest.raises(RegistryError, match=r"docker-credential-lurk timed out"):
        docker_credentials("ghcr.io", env)


def test_a_flooding_helper_is_cut_off_and_garbage_is_secret_free(tmp_path: Path) -> None:
    """Endless output is stopped at 64 KiB instead of filling memory; a non-JSON answer (which may hold a
    secret) is refused without being quoted."""
    _helper(tmp_path / "bin", "flood", "yes garbage\n")
    _helper(tmp_path / "bin", "garbage", f"echo 'Secret: {SECRET}'\n")
    env = write_docker_config(tmp_path / "docker", {"credHelpers": {"ghcr.io": "flood", "quay.io": "garbage"}})
    env["PATH"] = f"{tmp_path / 'bin'}:/usr/bin:/bin"
    with pytest.raises(RegistryError, match=r"docker-credential-flood printed more than 64 KiB; killed"):
        docker_credentials("ghcr.io", env)
    with pytest.raises(RegistryError, match=r"did not answer JSON") as garbage:
        docker_credentials("quay.io", env)
    assert SECRET not in str(garbage.value)


def test_a_helper_that_ignores_stdin_still_answers(tmp_path: Path) -> None:
    answer = json.dumps({"ServerURL": "ghcr.io", "Username": "bot", "Secret": SECRET})
    _helper(tmp_path / "bin", "deaf", f"echo '{answer}'\n")
    env = write_docker_config(tmp_path / "docker", {"credsStore": "deaf"})
    env["PATH"] = f"{tmp_path / 'bin'}:/usr/bin:/bin"
    assert docker_credentials("ghcr.io", env) == Credentials("bot", SECRET)


def test_a_bad_helper_timeout_is_a_clear_error(tmp_path: Path) -> None:
    _helper(tmp_path / "bin", "deaf", "exit 0\n")
    env = write_docker_config(tmp_path / "docker", {"credsStore": "deaf"})
    env.update(PATH=f"{tmp_path / 'bin'}:/usr/bin:/bin", HANDOFF_CREDENTIAL_HELPER_TIMEOUT="soon")
    with pytest.raises(RegistryError, match=r"HANDOFF_CREDENTIAL_HELPER_TIMEOUT='soon' is not a number"):
        docker_credentials("ghcr.io", env)


def test_resolve_via_is_read_case_insensitively() -> None:
    assert isinstance(digest_resolver({"HANDOFF_RESOLVE_VIA": "Docker "}), EngineResolver)
    assert isinstance(digest_resolver({"HANDOFF_RESOLVE_VIA": "REGISTRY"}), RegistryClient)
