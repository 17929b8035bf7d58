"""atk19c: breaks of the signed local-forge statuses (``commitstatus.local``, ``commitstatus.signing``)
by a config-repo writer, who can push ``refs/notes/handoff-status`` with plain git: the very writer the
signing is meant to make harmless. Over the real harness git server. Each test FAILS today; its
assertion message says what should hold."""

from __future__ import annotations

import json
import subprocess
import tracemalloc
from pathlib import Path

import pytest

from handoff.cli import main
from handoff.commitstatus import NOTES_REF, LocalStatuses
from handoff.git.command import GitAuth
from handoff.git.notes import GitNotes
from handoff.reconciler import status
from handoff.reconciler.config import Source, StatusSettings
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.report_status import StatusReporter
from tests.harness.git_server import GitServer

KEY = b"0123456789abcdef0123456789abcdef"
# deeper than the interpreter's recursion limit: json.loads raises RecursionError, not ValueError
DEEP = b'{"statuses": {"handoff/dev": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"


def _notes(server: GitServer, url: str, where: Path) -> GitNotes:
    return GitNotes(url, where, NOTES_REF, auth=GitAuth(str(server.username), str(server.password)))


def _head(server: GitServer, name: str) -> str:
    return subprocess.run(["git", "-C", str(server.bare_path(name)), "rev-parse", "main"], check=True,
                          capture_output=True, text=True).stdout.strip()


def _push_note(server: GitServer, url: str, where: Path, commit: str, data: bytes) -> None:
    """What any config-repo author can do: write the notes ref with plain git."""
    notes = _notes(server, url, where)
    notes.fetch()
    notes.write(commit, data)
    assert notes.push()


def _wait_args(server: GitServer, url: str, commit: str, key: Path) -> list[str]:
    return ["wait", "--env", "dev", "--commit", commit, "--timeout", "300ms", "--interval", "100ms",
            "--config-repo", url, "--forge", "local", "--token-env", "STATUS_TOKEN",
            "--git-username", str(server.username), "--status-key-file", str(key)]


def test_a_non_ascii_signature_is_ignored_not_a_crash(git_server: GitServer, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = _head(git_server, "config")
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    (tmp_path / "key").write_bytes(KEY)
    forged = {"handoff/dev": {"state": "failed", "description": "failed", "signature": "é"}}
    _push_note(git_server, url, tmp_path / "m", commit, json.dumps({"statuses": forged}).encode())
    code = main(_wait_args(git_server, url, commit, tmp_path / "key"))
    err = capsys.readouterr().err
    assert code == 124, (
        "an entry whose signature does not verify (here a non-ASCII string, which any config-repo writer "
        "can push) must be ignored like any other bad signature, so wait times out (124); today "
        f"hmac.compare_digest raises TypeError on a non-ASCII str and wait exits {code}: {err.strip()}")


def test_a_non_ascii_signature_does_not_hide_the_reconcilers_signed_status(git_server: GitServer,
                                                                          tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = _head(git_server, "config")
    LocalStatuses(_notes(git_server, url, tmp_path / "w"), key=KEY).post(commit, "handoff/dev", "degraded",
                                                                         "1/2 available")
    reader = _notes(git_server, url, tmp_path / "peek")
    reader.fetch()
    entries = json.loads(reader.read(commit) or b"{}")["statuses"]
    entries["handoff/prod"] = {"state": "healthy", "description": "healthy", "signature": "\u00e9"}
    _push_note(git_server, url, tmp_path / "m", commit, json.dumps({"statuses": entries}).encode())
    try:
        seen = LocalStatuses(_notes(git_server, url, tmp_path / "r"), key=KEY).read(commit)
    except TypeError as e:
        pytest.fail("one forged entry with a non-ASCII signature must be skipped, and the reconciler's "
                    f"signed handoff/dev entry still read; today the whole read raises {e!r}")
    assert {c: s.state for c, s in seen.items()} == {"handoff/dev": "degraded"}


def test_a_deeply_nested_note_is_replaced_by_the_reconcilers_post(git_server: GitServer,
                                                                  tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "x\n"})
    commit = _head(git_server, "config")
    # the author of the commit knows its SHA before the reconciler applies it, and notes it first
    _push_note(git_server, url, tmp_path / "m", commit, DEEP)
    (tmp_path / "token").write_text(f"{git_server.password}\n")
    (tmp_path / "key").write_bytes(KEY + b"\n")
    settings = StatusSettings(kind="local", token_file=str(tmp_path / "token"),
                              username=str(git_server.username), key_file=str(tmp_path / "key"))
    reporter = StatusReporter(settings, tmp_path / "work", Metrics())
    reporter.report(Source(name="web-dev", url=url, env="dev"),
                    status.PassResult("web-dev", status.SUCCEEDED, attempted_revision=commit,
                                      applied_revision=commit, health={"Healthy": 1}))
    try:
        seen = LocalStatuses(_notes(git_server, url, tmp_path / "r"), key=KEY).read(commit)
    except RecursionError:
        seen = {}
    assert "handoff/dev" in seen and seen["handoff/dev"].state == "healthy", (
        "an unreadable note is replaced, not trusted (commitstatus/local.py _entries): a note nested "
        "deeper than the recursion limit is unreadable too, and the reconciler's post must replace it; "
        "today json.loads raises RecursionError (not ValueError), the post fails on every pass, and the "
        "commit never gets its status, so `handoff wait` can only time out")


def test_wait_reads_a_deeply_nested_note_as_no_status(git_server: GitServer, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = _head(git_server, "config")
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    (tmp_path / "key").write_bytes(KEY)
    _push_note(git_server, url, tmp_path / "m", commit, DEEP)
    code = main(_wait_args(git_server, url, commit, tmp_path / "key"))
    err = capsys.readouterr().err
    assert code == 124, (
        "a note nested deeper than the recursion limit holds no readable status: wait must time out "
        f"(124) as with any unreadable note, not crash; today it exits {code}: {err.strip()}")


def test_reading_a_note_is_bounded(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = _head(git_server, "config")
    # thousands of contexts, as any config-repo writer can push: ~24 MiB, where a real note is < 1 KiB
    filler = {f"spam/{i}": {"state": "healthy", "description": "x" * 200} for i in range(100_000)}
    _push_note(git_server, url, tmp_path / "m", commit, json.dumps({"statuses": filler}).encode())
    store = _notes(git_server, url, tmp_path / "r")
    store.fetch()
    reader = LocalStatuses(store, key=KEY)
    tracemalloc.start()
    try:
        reader.read_fetched(commit)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, (
        "reading one commit's note must be bounded (the API backends cap a body at 4 MiB, "
        "commitstatus/http.py MAX_BODY; a note holds a few contexts): a larger note is unreadable, "
        f"like a non-JSON one; today GitNotes.read takes git's whole stdout and parses it: peak "
        f"{peak // (1024 * 1024)} MiB of Python memory for one read (the reconciler does it on every post)")


def _grow_notes_history(server: GitServer, commit: str, commits: int) -> None:
    """A notes ref ``commits`` notes commits long, as a year of the reconciler's posts leaves it (each post
    is one commit on the ref): written with git fast-import straight into the server's repository."""
    stream = []  # a fast-import branch continues from its own tip: no `from` needed
    for i in range(commits):
        body = json.dumps({"statuses": {"handoff/dev": {"state": "healthy", "description": f"post {i}"}}})
        stream.append(f"commit {NOTES_REF}\ncommitter handoff <h@localhost> {1700000000 + i} +0000\n"
                      f"data 5\npost\nN inline {commit}\ndata {len(body)}\n{body}\n")
    done = subprocess.run(["git", "-C", str(server.bare_path("config")), "fast-import", "--quiet", "--force"],
                          check=False, input="".join(stream).encode(), capture_output=True)
    assert done.returncode == 0, done.stderr.decode()


def test_reading_the_statuses_does_not_fetch_the_whole_notes_history(git_server: GitServer,
                                                                     tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = _head(git_server, "config")
    _grow_notes_history(git_server, commit, 3000)
    reader_dir = tmp_path / "reader"
    seen = LocalStatuses(_notes(git_server, url, reader_dir)).read(commit)
    assert seen["handoff/dev"].description == "post 2999"
    fetched = int(subprocess.run(["git", "-C", str(reader_dir), "rev-list", "--count", NOTES_REF],
                                 check=True, capture_output=True, text=True).stdout)
    assert fetched <= 1, (
        "a reader (`wait`, `status`, the promote gate: a fresh scratch repository each run) needs only the "
        "notes ref's tip; it must fetch it shallow (--depth=1), or each CI run downloads every status ever "
        f"posted (one notes commit per post, forever); today GitNotes.fetch took {fetched} notes commits "
        "(handoff/git/notes.py fetch)")


def test_a_notes_ref_that_is_not_a_commit_does_not_stop_every_post(git_server: GitServer,
                                                                   tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "x\n"})
    commit = _head(git_server, "config")
    bare = str(git_server.bare_path("config"))
    blob = subprocess.run(["git", "-C", bare, "hash-object", "-w", "--stdin"], input=b"not notes\n",
                          check=True, capture_output=True).stdout.decode().strip()
    # one push by any config-repo writer: the notes ref now names a blob
    subprocess.run(["git", "-C", bare, "update-ref", NOTES_REF, blob], check=True)
    (tmp_path / "token").write_text(f"{git_server.password}\n")
    settings = StatusSettings(kind="local", token_file=str(tmp_path / "token"),
                              username=str(git_server.username))
    reporter = StatusReporter(settings, tmp_path / "work", Metrics())
    reporter.report(Source(name="web-dev", url=url, env="dev"),
                    status.PassResult("web-dev", status.SUCCEEDED, attempted_revision=commit,
                                      applied_revision=commit, health={"Healthy": 1}))
    seen = LocalStatuses(_notes(git_server, url, tmp_path / "r")).read(commit)
    assert "handoff/dev" in seen, (
        "a notes ref that is not a notes commit (pushed by a config-repo writer) is unreadable like an "
        "unreadable note: the reconciler must replace it and post, not fail every post for every commit "
        f"until someone repairs the ref by hand; today the status was not posted ({seen})")
