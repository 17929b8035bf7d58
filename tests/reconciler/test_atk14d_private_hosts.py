"""atk14d: a tenant's Source URL may not name the reconciler's own machine (privatehosts.py). The check
reads the host as ``urlsplit`` gives it, still percent-encoded; git's HTTP transport (curl) decodes it, so
``http://%31%32%37.0.0.1:PORT/…`` is refused by nothing yet fetches from 127.0.0.1 ("never more authority
than the operator grants", issue 14: the SSRF f14c1 closed). Real git and the loopback git server."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

from handoff.errors import ConfigError
from handoff.reconciler import sourcecrd
from handoff.reconciler.privatehosts import why_private

pytestmark = [pytest.mark.tools]


def _encoded(url: str) -> str:
    scheme, _, rest = url.partition("://")
    host, colon, tail = rest.partition(":")  # http://127.0.0.1:PORT/...
    return f"{scheme}://{''.join(f'%{ord(ch):02x}' for ch in host)}{colon}{tail}"


def test_a_percent_encoded_loopback_host_is_refused(git_server: Any) -> None:
    url = git_server.create_repo("enc-loopback", {"app/cm.yaml": "a: 1\n"})
    encoded = _encoded(url)
    assert "127.0.0.1" not in encoded
    git = shutil.which("git") or "git"
    reached = subprocess.run([git, "ls-remote", encoded], capture_output=True, text=True, timeout=30,
                             check=False)
    # git reached the loopback server: it lists refs, or the server asked it for credentials
    assert reached.returncode == 0 or "401" in reached.stderr or "Authentication" in reached.stderr \
        or "could not read Username" in reached.stderr, reached.stderr
    assert why_private(encoded), f"{encoded} reaches 127.0.0.1 through git, yet is not a private host"
    with pytest.raises(ConfigError):
        sourcecrd.parse({"apiVersion": sourcecrd.API_VERSION, "kind": "Source",
                         "metadata": {"namespace": "team-b", "name": "web"}, "spec": {"url": encoded}})
