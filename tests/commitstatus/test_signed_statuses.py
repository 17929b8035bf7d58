"""Signed local-forge statuses (``commitstatus.signing``): the reconciler signs each entry with
``status.keyFile``; a reader with the same key (``--status-key-file``) ignores every entry that is not
signed with it, since any writer of the config repo can push the notes ref. Over the real git server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from handoff.cli import main
from handoff.commitstatus import NOTES_REF, BackendSettings, LocalStatuses, make_backend, read_key
from handoff.errors import ConfigError, UsageError
from handoff.git.command import GitAuth
from handoff.git.notes import GitNotes
from handoff.reconciler import status
from handoff.reconciler.config import Source, StatusSettings, load_settings
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.report_status import StatusReporter
from tests.harness.git_server import GitServer

KEY = b"0123456789abcdef0123456789abcdef"
OTHER = b"fedcba9876543210fedcba9876543210"


def _notes(server: GitServer, url: str, where: Path) -> GitNotes:
    return GitNotes(url, where, NOTES_REF, auth=GitAuth(str(server.username), str(server.password)))


def _head(server: GitServer, name: str) -> str:
    return subprocess.run(["git", "-C", str(server.bare_path(name)), "rev-parse", "main"], check=True,
                          capture_output=True, text=True).stdout.strip()


def _forge(server: GitServer, url: str, where: Path, commit: str, entries: dict[str, object]) -> None:
    """What a config-repo author can do: write the notes ref with plain git."""
    notes = _notes(server, url, where)
    notes.fetch()
    notes.write(commit, json.dumps({"statuses": entries}).encode())
    assert notes.push()


def test_a_reader_with_the_key_sees_only_entries_signed_with_it(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = _head(git_server, "config")
    LocalStatuses(_notes(git_server, url, tmp_path / "w"), key=KEY).post(commit, "handoff/dev", "degraded",
                                                                         "1/2 available")
    signed = LocalStatuses(_notes(git_server, url, tmp_path / "r1"), key=KEY).read(commit)
    assert signed["handoff/dev"].state == "degraded"
    assert LocalStatuses(_notes(git_server, url, tmp_path / "r2"), key=OTHER).read(commit) == {}
    # the signed entry with its state changed, and an unsigned entry (as a config-repo author can write)
    entry = json.loads(_notes(git_server, url, tmp_path / "w").read(commit) or b"{}")["statuses"]["handoff/dev"]
    _forge(git_server, url, tmp_path / "m", commit, {
        "handoff/dev": {**entry, "state": "healthy"},
        "handoff/prod": {"state": "healthy", "description": "healthy"},
    })
    assert LocalStatuses(_notes(git_server, url, tmp_path / "r3"), key=KEY).read(commit) == {}
    # without a key every entry counts, as before
    unsigned = LocalStatuses(_notes(git_server, url, tmp_path / "r4")).read(commit)
    assert {c: s.state for c, s in unsigned.items()} == {"handoff/dev": "healthy", "handoff/prod": "healthy"}


def test_the_reconciler_signs_with_status_key_file(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "x\n"})
    commit = _head(git_server, "config")
    (tmp_path / "token").write_text(f"{git_server.password}\n")
    (tmp_path / "key").write_bytes(KEY + b"\n")
    settings = StatusSettings(kind="local", token_file=str(tmp_path / "token"),
                              username=str(git_server.username), key_file=str(tmp_path / "key"))
    reporter = StatusReporter(settings, tmp_path / "work", Metrics())
    reporter.report(Source(name="web-dev", url=url, env="dev"),
                    status.PassResult("web-dev", status.SUCCEEDED, attempted_revision=commit,
                                      applied_revision=commit, health={"Healthy": 1}))
    seen = LocalStatuses(_notes(git_server, url, tmp_path / "r"), key=KEY).read(commit)
    assert seen["handoff/dev"].state == "healthy"


def test_wait_with_the_key_ignores_a_forged_healthy(git_server: GitServer, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = _head(git_server, "config")
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    (tmp_path / "key").write_bytes(KEY)
    _forge(git_server, url, tmp_path / "m", commit, {"handoff/dev": {"state": "healthy", "description": "ok"}})
    args = ["wait", "--env", "dev", "--commit", commit, "--timeout", "300ms", "--interval", "100ms",
            "--config-repo", url, "--forge", "local", "--token-env", "STATUS_TOKEN",
            "--git-username", str(git_server.username)]
    assert main([*args, "--status-key-file", str(tmp_path / "key")]) == 124
    assert "has no status yet" in capsys.readouterr().out
    LocalStatuses(_notes(git_server, url, tmp_path / "w"), key=KEY).post(commit, "handoff/dev", "healthy", "ok")
    assert main([*args, "--status-key-file", str(tmp_path / "key")]) == 0


def test_key_errors_name_the_file_and_key(tmp_path: Path) -> None:
    short = tmp_path / "short"
    short.write_text("abc\n")
    with pytest.raises(UsageError, match=r"short: at --status-key-file: .*at least 16 bytes"):
        read_key(short, key="--status-key-file")
    with pytest.raises(UsageError, match="local-forge statuses only"):
        make_backend("github", BackendSettings(project="o/r", token="t", key=KEY))
    config = tmp_path / "config.yaml"
    config.write_text("sources:\n  - name: web\n    url: https://git.example/config.git\nstatus:\n"
                      "  kind: github\n  project: o/r\n  tokenFile: /t\n  keyFile: /k\n")
    with pytest.raises(ConfigError, match=r"config.yaml:8: at status.keyFile"):
        load_settings(config)
    config.write_text("sources:\n  - name: web\n    url: https://git.example/config.git\nstatus:\n"
                      "  kind: local\n  keyFile: /etc/handoff/status/key\n")
    loaded = load_settings(config).status
    assert loaded is not None and loaded.key_file == "/etc/handoff/status/key"
