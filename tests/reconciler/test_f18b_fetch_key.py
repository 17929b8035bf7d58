"""A clone directory is read only under the fetch key that filled it (url, ref, credential identity and
content, verification): a source whose credentials changed, in files or in what they hold, never checks
out a commit the old ones fetched. Real git server (which requires its token)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.errors import GitError
from handoff.reconciler.config import Credentials, Source
from handoff.reconciler.source import FetchPool, credential_identity

from .cluster import Cluster
from .test_source_sharing import cluster  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_clone_is_not_reused_once_its_token_file_holds_other_credentials(
        cluster: Cluster, tmp_path: Path) -> None:  # noqa: F811
    token = tmp_path / "token"
    token.write_bytes(cluster.token_file.read_bytes())
    creds = Credentials(token_file=str(token), username=cluster.username)
    sha = FetchPool(tmp_path / "probe").get(Source(name="web", url=cluster.url, credentials=creds)).remote_revision()
    pinned = Source(name="web", url=cluster.url, revision=sha, credentials=creds)
    first = FetchPool(tmp_path / "w").get(pinned)
    first.checkout(sha)
    kept = FetchPool(tmp_path / "w").get(pinned)  # a restart with the same credentials keeps the checkout
    assert kept.dir == first.dir and kept.checkout(sha).revision == sha
    token.write_text("revoked\n")  # the Secret rewritten: same file, other credentials
    again = FetchPool(tmp_path / "w").get(pinned)
    assert again.dir == first.dir and not (again.dir / "apps").exists()
    with pytest.raises(GitError):  # the server decides, not the objects the old token fetched
        again.checkout(sha)


def test_credential_identity_names_the_files_and_what_they_hold(tmp_path: Path) -> None:
    assert credential_identity(Credentials()) == ("none",)
    token = tmp_path / "token"
    token.write_text("a")
    one = credential_identity(Credentials(token_file=str(token)))
    assert credential_identity(Credentials(token_file=str(token))) == one
    token.write_text("b")
    assert credential_identity(Credentials(token_file=str(token))) != one
