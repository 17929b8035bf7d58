"""The local forge's commit statuses: a git notes ref on the config repo, pushed over the real git server
(tests/harness) with the reconciler's credential, and read back by another clone with plain git."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from handoff.commitstatus import NOTES_REF, LocalStatuses
from handoff.git.command import GitAuth
from handoff.git.notes import MAX_NOTE_BYTES, GitNotes
from tests.atk19.test_atk19c_notes import _grow_notes_history
from tests.harness.git_server import GitServer


def _notes(server: GitServer, url: str, where: Path) -> GitNotes:
    assert server.username and server.password
    return GitNotes(url, where, NOTES_REF, auth=GitAuth(server.username, server.password))


def _head(server: GitServer, name: str) -> str:
    return subprocess.run(["git", "-C", str(server.bare_path(name)), "rev-parse", "main"], check=True,
                          capture_output=True, text=True).stdout.strip()


def test_post_and_read_back_from_another_clone(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = _head(git_server, "config")
    writer = LocalStatuses(_notes(git_server, url, tmp_path / "writer"))
    assert writer.read(commit) == {}  # nobody wrote a status yet: no notes ref on the remote
    writer.post(commit, "handoff/dev", "applying", "applying revision")
    writer.post(commit, "handoff/dev", "healthy", "2/2 available")
    reader = LocalStatuses(_notes(git_server, url, tmp_path / "reader"))
    got = reader.read(commit)
    assert got["handoff/dev"].state == "healthy" and got["handoff/dev"].description == "healthy: 2/2 available"
    # plain git sees it too: the note is JSON on the commit
    shown = subprocess.run(["git", "-C", str(git_server.bare_path("config")), "notes", f"--ref={NOTES_REF}",
                            "show", commit], check=True, capture_output=True, text=True).stdout
    assert '"handoff/dev"' in shown
    assert writer.calls >= 4  # a fetch and a push per post


def test_two_writers_racing_keep_both_contexts(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = _head(git_server, "config")
    dev = LocalStatuses(_notes(git_server, url, tmp_path / "dev"))
    prod_notes = _notes(git_server, url, tmp_path / "prod")
    prod = LocalStatuses(prod_notes)
    prod_notes.fetch()  # prod's view is now stale once dev pushes
    dev.post(commit, "handoff/dev", "healthy", "ok")
    prod_notes.write(commit, b"{}")
    assert not prod_notes.push()  # a stale notes ref never overwrites another writer's statuses
    prod.post(commit, "handoff/prod", "degraded", "not ready")  # fetches afresh, then pushes
    got = LocalStatuses(_notes(git_server, url, tmp_path / "reader")).read(commit)
    assert {c: s.state for c, s in got.items()} == {"handoff/dev": "healthy", "handoff/prod": "degraded"}


def test_an_unreadable_note_is_replaced_not_trusted(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = _head(git_server, "config")
    notes = _notes(git_server, url, tmp_path / "w")
    notes.fetch()
    notes.write(commit, b"not json{")
    assert notes.push()
    statuses = LocalStatuses(notes)
    assert statuses.read(commit) == {}
    statuses.post(commit, "handoff/dev", "failed", "revision not applied")
    assert statuses.read(commit)["handoff/dev"].state == "failed"


def test_a_note_over_the_size_cap_reads_as_none_and_is_replaced(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = _head(git_server, "config")
    notes = _notes(git_server, url, tmp_path / "w")
    notes.fetch()
    huge = json.dumps({"statuses": {"handoff/dev": {"state": "healthy", "description": "x" * MAX_NOTE_BYTES}}})
    notes.write(commit, huge.encode())
    assert notes.push()
    notes.fetch()
    assert notes.read(commit) is None
    statuses = LocalStatuses(notes)
    assert statuses.read(commit) == {}
    statuses.post(commit, "handoff/dev", "applying", "applying revision")
    assert LocalStatuses(_notes(git_server, url, tmp_path / "r")).read(commit)["handoff/dev"].state == "applying"


def _point_ref_at_a_tree(server: GitServer) -> str:
    bare = str(server.bare_path("config"))
    tree = subprocess.run(["git", "-C", bare, "rev-parse", "main^{tree}"], check=True, capture_output=True,
                          text=True).stdout.strip()
    subprocess.run(["git", "-C", bare, "update-ref", NOTES_REF, tree], check=True)
    return tree


def test_a_notes_ref_naming_a_tree_is_read_as_empty_and_replaced(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = _head(git_server, "config")
    _point_ref_at_a_tree(git_server)
    statuses = LocalStatuses(_notes(git_server, url, tmp_path / "w"))
    assert statuses.read(commit) == {}
    statuses.post(commit, "handoff/dev", "healthy", "2/2 available")
    assert LocalStatuses(_notes(git_server, url, tmp_path / "r")).read(commit)["handoff/dev"].state == "healthy"
    kind = subprocess.run(["git", "-C", str(git_server.bare_path("config")), "cat-file", "-t", NOTES_REF],
                          check=True, capture_output=True, text=True).stdout.strip()
    assert kind == "commit"


def test_replacing_a_bad_notes_ref_never_overwrites_a_writer_who_repaired_it(git_server: GitServer,
                                                                             tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = _head(git_server, "config")
    _point_ref_at_a_tree(git_server)
    stale = _notes(git_server, url, tmp_path / "stale")
    stale.fetch()  # sees the tree, will replace it
    # meanwhile another writer deletes the bad ref and posts a status
    subprocess.run(["git", "-C", str(git_server.bare_path("config")), "update-ref", "-d", NOTES_REF], check=True)
    LocalStatuses(_notes(git_server, url, tmp_path / "other")).post(commit, "handoff/prod", "healthy", "ok")
    stale.write(commit, b"{}")
    assert not stale.push()  # the lease names the tree: the other writer's statuses stay
    LocalStatuses(stale).post(commit, "handoff/dev", "degraded", "1/2 available")
    got = LocalStatuses(_notes(git_server, url, tmp_path / "r")).read(commit)
    assert {c: s.state for c, s in got.items()} == {"handoff/dev": "degraded", "handoff/prod": "healthy"}


def test_a_writer_fetching_only_the_tip_still_appends_to_the_history(git_server: GitServer,
                                                                     tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = _head(git_server, "config")
    _grow_notes_history(git_server, commit, 20)
    writer_notes = _notes(git_server, url, tmp_path / "w")
    LocalStatuses(writer_notes).post(commit, "handoff/prod", "healthy", "ok")
    bare = str(git_server.bare_path("config"))
    count = subprocess.run(["git", "-C", bare, "rev-list", "--count", NOTES_REF], check=True,
                           capture_output=True, text=True).stdout.strip()
    assert count == "21"  # fast-forward on top of the 20, not a fresh history
    got = LocalStatuses(_notes(git_server, url, tmp_path / "r")).read(commit)
    assert {c: s.state for c, s in got.items()} == {"handoff/dev": "healthy", "handoff/prod": "healthy"}
