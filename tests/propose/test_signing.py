"""Signed commits through git's own signing config: a real throwaway SSH key, verified by git."""

from __future__ import annotations

import subprocess
from pathlib import Path

from handoff.git.repo import Identity
from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool
from tests.propose.helpers import propose_on

MARKERS = "web: registry.example/web:1.0.0 # handoff:image web\n"


def verify(bare: Path, ref: str, allowed: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "--git-dir", str(bare), "-c", f"gpg.ssh.allowedSignersFile={allowed}",
                           "verify-commit", ref], capture_output=True, text=True, check=False)


def test_sign_ssh_commits_verify_with_the_allowed_signers(git_server: GitServer, sandbox: Path,
                                                          tmp_path: Path) -> None:
    """--sign ssh signs with the key named by git config (user.signingkey in the job's global config);
    ``git verify-commit`` accepts it with an allowed-signers file, and rejects an unrelated key."""
    keygen = require_tool("ssh-keygen")
    key = tmp_path / "signing_key"
    subprocess.run([str(keygen), "-q", "-t", "ed25519", "-N", "", "-C", "handoff-test", "-f", str(key)], check=True)
    subprocess.run(["git", "config", "--global", "user.signingkey", str(key)], check=True)
    url = git_server.create_repo("signed", {"apps.yaml": MARKERS})
    bot = Identity("handoff bot", "bot@handoff.invalid")

    pr = propose_on(git_server, url, "registry.example/web:1.1.0", sign="ssh", author=bot)
    direct = propose_on(git_server, url, "registry.example/web:1.2.0", sign="ssh", author=bot, mode="direct")
    assert (pr.operation, direct.operation) == ("created", "updated")

    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"{bot.email} {Path(str(key) + '.pub').read_text()}")
    bare = git_server.bare_path("signed")
    for ref in ("handoff/dev/web", "main"):
        checked = verify(bare, ref, allowed)
        assert checked.returncode == 0, checked.stderr
        assert f'Good "git" signature for {bot.email}' in checked.stderr

    other = tmp_path / "other_key"
    subprocess.run([str(keygen), "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    allowed.write_text(f"{bot.email} {Path(str(other) + '.pub').read_text()}")
    assert verify(bare, "main", allowed).returncode != 0
