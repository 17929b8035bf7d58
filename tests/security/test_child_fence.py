"""The structural line behind the pre-render scans (``handoff/fence.py``): renderer children run in their own
network namespace (nothing reachable, 127.0.0.1 included) and see a filesystem of the render root, their
scratch and the system's ``/usr`` only. Each test hands real helm or kustomize an input the scans would refuse,
by calling the runner directly, as a spelling the scans missed would reach it: the fence alone must hold.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from handoff import fence
from handoff.errors import RenderError
from handoff.toolrun import run_tool
from tests.harness.tools import require_tool, tools_required
from tests.security.test_render_network import Listener, listener  # noqa: F401 (fixture)

pytestmark = pytest.mark.tools

SECRET = "fence-secret-5c1e9b2d77"


def test_children_are_fenced_on_the_ci_machine() -> None:
    """CI runs where unprivileged user namespaces work; a machine where they do not says why."""
    why = fence.unavailable_reason()
    if why and not tools_required():
        pytest.skip(f"namespaces unavailable here: {why}")
    assert why == ""


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "token"
    secret.parent.mkdir()
    secret.write_text(SECRET, encoding="utf-8")
    return secret


def _chart(root: Path, template: str) -> Path:
    chart = root / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 0.1.0\n", encoding="utf-8")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n" + template, encoding="utf-8")
    return chart


def test_helm_reads_nothing_through_a_link_out_of_the_render_root(tmp_path: Path, outside: Path) -> None:
    """helm refuses a link it cannot resolve; either way the file outside is never read."""
    helm = require_tool("helm")
    for link, target in (("token", outside), ("environ", Path("/proc/self/environ"))):
        root = tmp_path / link
        chart = _chart(root, f'  got: {{{{ .Files.Get "{link}" | b64enc | quote }}}}\n')
        (chart / link).symlink_to(target)
        try:
            said = run_tool([helm, "template", "r", str(chart)], what="helm", cwd=chart, readable=[root])
        except RenderError as e:
            said = str(e)
        assert SECRET not in said and base64.b64encode(SECRET.encode()).decode() not in said
        assert "got: \"\"" in said or "no such file" in said


def test_helm_follows_a_link_inside_the_render_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    chart = _chart(root, '  got: {{ .Files.Get "shared.txt" | quote }}\n')
    (root / "shared.txt").write_text("in-repo", encoding="utf-8")
    (chart / "shared.txt").symlink_to(root / "shared.txt")
    helm = require_tool("helm")
    out = run_tool([helm, "template", "r", str(chart)], what="helm", cwd=chart, readable=[root])
    assert 'got: "in-repo"' in out


def test_kustomize_cannot_load_a_base_outside_the_render_root(tmp_path: Path) -> None:
    """A sibling source's checkout: kustomize itself allows ``../`` bases, the fence does not."""
    sibling = tmp_path / "other-source"
    sibling.mkdir()
    (sibling / "kustomization.yaml").write_text("resources: [cm.yaml]\n", encoding="utf-8")
    (sibling / "cm.yaml").write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {SECRET}\n",
                                     encoding="utf-8")
    root = tmp_path / "source"
    overlay = root / "overlay"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text("resources: [../../other-source]\n", encoding="utf-8")
    kustomize = require_tool("kustomize")
    with pytest.raises(RenderError) as caught:
        run_tool([kustomize, "build", "."], what="kustomize build", cwd=overlay, readable=[root])
    assert SECRET not in str(caught.value)


def test_kustomize_sends_no_request_even_to_loopback(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    overlay = tmp_path / "repo"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(f"resources:\n- {listener.url}/cm.yaml\n", encoding="utf-8")
    kustomize = require_tool("kustomize")
    with pytest.raises(RenderError):
        run_tool([kustomize, "build", "."], what="kustomize build", cwd=overlay, readable=[overlay])
    assert listener.requests == []


def test_a_net_only_fence_still_reaches_nothing(listener: Listener) -> None:  # noqa: F811
    """The policy sandbox and kubeconform get the network namespace without the filesystem view."""
    port = listener.url.rsplit(":", 1)[1]
    with fence.fenced(["bash", "-c", f"echo x > /dev/tcp/127.0.0.1/{port}"], cwd=None, readable=None,
                      offline=True) as argv:
        done = subprocess.run(argv, capture_output=True, check=False)
    if fence.unavailable_reason():
        pytest.skip("namespaces unavailable here")
    assert done.returncode != 0
    assert listener.requests == []


def test_a_fenced_child_sees_no_etc_no_proc_and_cannot_write_the_repo(tmp_path: Path) -> None:
    if fence.unavailable_reason() and not tools_required():
        pytest.skip("namespaces unavailable here")
    script = ("ls /etc /proc /root /var 2>&1 | head -n 4; echo x > inside.txt 2>&1 || echo read-only; "
              "echo y > \"$TMPDIR/scratch\" && echo scratch-ok")
    (tmp_path / "inside.txt").write_text("kept", encoding="utf-8")
    out = run_tool(["sh", "-c", script], what="sh", cwd=tmp_path, readable=[tmp_path])
    assert "No such file" in out and "read-only" in out and "scratch-ok" in out
    assert (tmp_path / "inside.txt").read_text(encoding="utf-8") == "kept"


def test_require_mode_refuses_to_run_a_child_unfenced(tmp_path: Path) -> None:
    """Where namespaces cannot be made (no unshare here), ``require`` is a one-line error, ``auto`` a warning."""
    code = ("from pathlib import Path\nfrom handoff.toolrun import run_tool\n"
            "print(run_tool(['/bin/echo', 'ran'], what='echo', cwd=Path('.'), readable=[Path('.')]))\n")
    env = {"PATH": str(tmp_path), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    required = subprocess.run([sys.executable, "-c", code], env={**env, fence.ISOLATION_ENV: "require"},
                              capture_output=True, text=True, cwd=tmp_path, check=False)
    assert required.returncode != 0
    assert "HANDOFF_CHILD_ISOLATION=require" in required.stderr and "unshare" in required.stderr
    auto = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path,
                          check=False)
    assert auto.returncode == 0 and auto.stdout.strip() == "ran"
    assert "without namespace isolation" in auto.stderr


def test_an_unknown_mode_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fence.ISOLATION_ENV, "sometimes")
    with pytest.raises(fence.IsolationUnavailable, match="expected one of auto, require, off"), \
            fence.fenced(["true"], cwd=None, readable=None, offline=True):
        pass
    assert os.environ[fence.ISOLATION_ENV] == "sometimes"


def test_the_render_roots_git_directory_is_empty_to_the_child(tmp_path: Path) -> None:
    """CI's checkout keeps its token in ``.git/config``; the scans refuse every read of it they recognise, and
    the fence covers the directory with an empty one, so a read they miss finds nothing."""
    if fence.unavailable_reason() and not tools_required():
        pytest.skip("namespaces unavailable here")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(f"[http]\n\textraheader = AUTHORIZATION: basic {SECRET}\n",
                                              encoding="utf-8")
    (tmp_path / "app.yaml").write_text("kind: ConfigMap\n", encoding="utf-8")
    out = run_tool(["sh", "-c", "cat .git/config 2>&1; ls -a .git; cat app.yaml"], what="sh", cwd=tmp_path,
                   readable=[tmp_path])
    assert SECRET not in out and "kind: ConfigMap" in out
    assert (tmp_path / ".git" / "config").read_text(encoding="utf-8").count(SECRET) == 1  # untouched
