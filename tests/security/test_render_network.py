"""Nothing is fetched at render time: a real HTTP server on 127.0.0.1 that a kustomization (or a Helm
chart's dependencies) names receives zero requests through validate, propose and the reconciler; each
refusal is one line naming the file, line and key. Only an operator's pinned allow-list re-enables a remote
(the server then sees kustomize's fetch); the repository cannot grant it.

Go never proxies loopback, so the closed proxy the children get cannot stop 127.0.0.1: the scan must.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from handoff.cli import main
from handoff.errors import ConfigError, RenderError, UsageError
from handoff.reconciler.config import load_settings
from handoff.render import RenderPolicy, render_path, render_policy
from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool
from tests.propose.helpers import remote_branches
from tests.reconciler.cluster import new_cluster

pytestmark = pytest.mark.tools

COMMIT = "0123456789abcdef0123456789abcdef01234567"
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\ndata:\n  mode: prod\n"


class Listener:
    """An HTTP server on 127.0.0.1 that records every request and answers a ConfigMap."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        recorded = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorded.append(f"GET {self.path}")
                body = CONFIGMAP.replace("local", "fetched").encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                recorded.append(f"POST {self.path}")
                self.send_response(404)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    try:
        yield server
    finally:
        server.close()


def kustomization(*lines: str) -> str:
    return "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" + "".join(f"{x}\n" for x in lines)


# (kustomization body, the key and line the error must name); {u} is the listener's URL, {h} its host:port
REMOTE_FORMS = {
    "http resource": (["resources:", "  - cm.yaml", "  - {u}/cm.yaml"], "resources[1]", 5),
    "git repo with ref": (["resources:", "  - {u}/org/repo//app?ref=main"], "resources[0]", 4),
    "git:: prefix": (["resources:", "  - git::{u}/org/repo.git//app"], "resources[0]", 4),
    "scp-like git": (["resources:", "  - git@127.0.0.1:org/repo.git"], "resources[0]", 4),
    "ssh url": (["resources:", "  - ssh://git@{h}/org/repo.git"], "resources[0]", 4),
    "host path form": (["resources:", "  - {h}/org/repo/app?ref=v1"], "resources[0]", 4),
    "bases": (["bases:", "  - {u}/org/base"], "bases[0]", 4),
    "components": (["components:", "  - {u}/org/component"], "components[0]", 4),
    "patch path": (["resources:", "  - cm.yaml", "patches:", "  - path: {u}/patch.yaml"], "patches[0].path", 6),
    "generator file": (["configMapGenerator:", "  - name: g", "    files:", "      - k={u}/file.txt"],
                       "configMapGenerator[0].files[0]", 6),
    "helmCharts repo": (["helmCharts:", "  - name: web", "    repo: {u}/charts", "    version: 1.0.0"],
                        "helmCharts[0].repo", 5),
    "missing local path": (["resources:", "  - not-here/app"], "resources[0]", 4),
}


def overlay(tmp_path: Path, listener: Listener, body: list[str]) -> Path:
    host = listener.url.removeprefix("http://")
    (tmp_path / "envs/dev").mkdir(parents=True)
    (tmp_path / "envs/dev/cm.yaml").write_text(CONFIGMAP)
    text = kustomization(*(line.format(u=listener.url, h=host) for line in body))
    (tmp_path / "envs/dev/kustomization.yaml").write_text(text)
    (tmp_path / ".handoff.yaml").write_text("environments:\n  dev: {render: {type: kustomize, path: envs/dev}}\n")
    return tmp_path / "envs/dev"


@pytest.mark.parametrize("form", sorted(REMOTE_FORMS))
def test_every_remote_form_is_refused_before_kustomize_runs(form: str, tmp_path: Path, listener: Listener) -> None:
    require_tool("kustomize")
    body, key, line = REMOTE_FORMS[form]
    directory = overlay(tmp_path, listener, body)
    with pytest.raises(RenderError) as refused:
        render_path(directory, repo=tmp_path)
    message = str(refused.value)
    assert message.startswith(f"envs/dev/kustomization.yaml:{line}: at {key}: "), message
    assert "\n" not in message
    assert listener.requests == []


def test_a_committed_file_shaped_like_the_url_does_not_pass_it_as_local(tmp_path: Path, listener: Listener) -> None:
    """``envs/dev/http:/127.0.0.1:PORT/cm.yaml`` exists on disk, but kustomize fetches ``http://…`` first."""
    require_tool("kustomize")
    directory = overlay(tmp_path, listener, ["resources:", f"  - {listener.url}/cm.yaml"])
    decoy = directory / "http:" / listener.url.removeprefix("http://") / "cm.yaml"
    decoy.parent.mkdir(parents=True)
    decoy.write_text(CONFIGMAP)
    with pytest.raises(RenderError, match=r"^envs/dev/kustomization.yaml:4: at resources\[0\]: a remote kustomize"):
        render_path(directory, repo=tmp_path)
    assert listener.requests == []


def test_a_remote_in_a_nested_base_is_refused_naming_the_base(tmp_path: Path, listener: Listener) -> None:
    require_tool("kustomize")
    directory = overlay(tmp_path, listener, ["resources:", "  - ../../base"])
    (tmp_path / "base").mkdir()
    (tmp_path / "base/kustomization.yaml").write_text(kustomization("resources:", f"  - {listener.url}/cm.yaml"))
    with pytest.raises(RenderError, match=r"^base/kustomization.yaml:4: at resources\[0\]: a remote kustomize"):
        render_path(directory, repo=tmp_path)
    assert listener.requests == []


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_validate_env_refuses_with_one_line_and_the_server_sees_nothing(command: str, tmp_path: Path,
                                                                        listener: Listener) -> None:
    require_tool("kustomize")
    overlay(tmp_path, listener, REMOTE_FORMS["http resource"][0])
    done = subprocess.run([sys.executable, "-m", "handoff", command, "--config-repo", str(tmp_path), "--env", "dev"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "envs/dev/kustomization.yaml:5: at resources[1]: a remote kustomize" in lines[0], lines
    assert listener.requests == []


def chart(tmp_path: Path, dependencies: str, *, vendored: bool = False) -> Path:
    root = tmp_path / "chart"
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text(f"apiVersion: v2\nname: app\nversion: 0.1.0\n{dependencies}")
    (root / "templates/cm.yaml").write_text(CONFIGMAP)
    if vendored:
        sub = root / "charts/db"
        (sub / "templates").mkdir(parents=True)
        (sub / "Chart.yaml").write_text("apiVersion: v2\nname: db\nversion: 1.0.0\n")
        (sub / "templates/cm.yaml").write_text(CONFIGMAP.replace("local", "db"))
    return root


def test_an_unvendored_chart_dependency_is_refused_naming_chart_yaml(tmp_path: Path, listener: Listener) -> None:
    require_tool("helm")
    deps = f"dependencies:\n  - name: db\n    version: 1.0.0\n    repository: {listener.url}/charts\n"
    with pytest.raises(RenderError, match=r"^chart/Chart.yaml:5: at dependencies\[0\]: chart dependency 'db' from "):
        render_path(chart(tmp_path, deps), repo=tmp_path)
    assert listener.requests == []


@pytest.mark.parametrize("directory", ["db", "db-1.0.0"])
def test_a_vendored_dependency_renders_offline(directory: str, tmp_path: Path, listener: Listener) -> None:
    """Vendored as Helm matches it: by the subchart's name, whatever its directory is called."""
    require_tool("helm")
    deps = f"dependencies:\n  - name: db\n    version: 1.0.0\n    repository: {listener.url}/charts\n"
    root = chart(tmp_path, deps, vendored=True)
    (root / "charts/db").rename(root / "charts" / directory)
    result = render_path(root, repo=tmp_path)
    assert sorted(o.ref.name for o in result.objects) == ["db", "local"]
    assert listener.requests == []


def test_propose_refuses_a_remote_resource_and_pushes_nothing(git_server: GitServer, listener: Listener,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    require_tool("kustomize")
    config = ("environments:\n  dev: {render: {type: kustomize, path: envs/dev}}\n"
              "apps:\n  web:\n    image: registry.example/web\n    targets:\n"
              "      - {type: marker, path: envs/dev/cm.yaml}\n")
    files = {".handoff.yaml": config,
             "envs/dev/cm.yaml": CONFIGMAP + "  image: registry.example/web:1.0.0 # handoff:image web\n",
             "envs/dev/kustomization.yaml": kustomization("resources:", "  - cm.yaml", f"  - {listener.url}/cm.yaml")}
    url = git_server.create_repo("remote-propose", files)
    assert git_server.username and git_server.password
    argv = ["propose", "--image", "registry.example/web:1.1.0", "--app", "web", "--env", "dev", "--config-repo", url,
            "--git-username", git_server.username, "--token-env", "CFG_TOKEN", "--forge", "local"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CFG_TOKEN", git_server.password)
        assert main(argv) != 0
    err = capsys.readouterr().err
    assert "envs/dev/kustomization.yaml:5: at resources[1]: a remote kustomize" in err
    assert listener.requests == []
    assert remote_branches(git_server, "remote-propose") == ["main"]


@pytest.mark.parametrize("body", [["resources:", "  - {u}/cm.yaml"],
                                  ["helmCharts:", "  - name: web", "    repo: {u}/charts", "    version: 1.0.0"]],
                         ids=["resources", "helmCharts"])
def test_reconcile_once_refuses_and_the_server_sees_nothing(apiserver: Any, git_server: GitServer, tmp_path: Path,
                                                            listener: Listener, body: list[str]) -> None:
    require_tool("kustomize")
    lines = [line.format(u=listener.url) for line in body]
    c = new_cluster(apiserver, git_server, tmp_path, {"app/kustomization.yaml": kustomization(*lines),
                                                      "app/cm.yaml": CONFIGMAP})
    done = subprocess.run(
        [sys.executable, "-m", "handoff", "reconcile", "--kubeconfig", str(apiserver.kubeconfig), "--repo", c.url,
         "--path", "app", "--revision", "main", "--name", f"src-{c.target_ns}", "--target-namespace", c.target_ns,
         "--namespace", c.control_ns, "--token-file", str(c.token_file), "--git-username", c.username,
         "--workdir", str(c.workdir), "--no-leader-elect", "--once"],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0
    assert "app/kustomization.yaml:" in done.stdout + done.stderr
    assert listener.requests == []
    assert c.get("v1", "ConfigMap", "fetched") is None and c.get("v1", "ConfigMap", "local") is None


def test_an_operator_allow_listed_pinned_remote_is_let_through(tmp_path: Path, listener: Listener) -> None:
    """The allow-list really re-enables the remote: kustomize then fetches from the server, which proves
    the scan, not a broken network, stopped the others."""
    require_tool("kustomize")
    remote = f"{listener.url}/manifests/cm.yaml?ref={COMMIT}"
    directory = overlay(tmp_path, listener, ["resources:", f"  - {remote}"])
    with render_policy(RenderPolicy(allowed_remotes=frozenset({remote}))):
        result = render_path(directory, repo=tmp_path)
    assert [o.ref.name for o in result.objects] == ["fetched"]
    assert listener.requests, "the allow-listed remote was never contacted"
    other = RenderPolicy(allowed_remotes=frozenset({remote.replace("cm.yaml", "other.yaml")}))
    with render_policy(other), pytest.raises(RenderError, match="is refused"):  # exact matches only
        render_path(directory, repo=tmp_path)


def test_allow_lists_accept_only_pinned_remotes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--config-repo", str(tmp_path), "--allow-remote", "https://example.com/x?ref=main"]) == 2
    assert "is not pinned" in capsys.readouterr().err
    config = tmp_path / "reconciler.yaml"
    config.write_text("sources:\n  - name: a\n    url: https://example.com/r.git\n    allowRemote:\n"
                      "      - https://example.com/x?ref=main\n")
    with pytest.raises(ConfigError, match=r"reconciler.yaml:4: at sources\[0\].allowRemote: .*is not pinned"):
        load_settings(config)
    config.write_text(config.read_text().replace("ref=main", f"ref={COMMIT}"))
    assert load_settings(config).sources[0].allow_remote == frozenset({f"https://example.com/x?ref={COMMIT}"})


def test_the_repository_cannot_allow_list_a_remote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".handoff.yaml").write_text(f"allowRemote: [https://example.com/x?ref={COMMIT}]\nenvironments: {{}}\n")
    assert main(["validate", "--config-repo", str(tmp_path)]) == 2
    assert ".handoff.yaml:1" in capsys.readouterr().err


def test_unpinned_env_allow_list_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_ALLOW_REMOTE", "https://example.com/x")
    with pytest.raises(UsageError, match=r"HANDOFF_ALLOW_REMOTE: remote 'https://example\.com/x' is not pinned"):
        RenderPolicy.from_env()


def test_the_allow_remote_flag_lets_validate_fetch_the_pinned_remote(tmp_path: Path, listener: Listener) -> None:
    require_tool("kustomize")
    remote = f"{listener.url}/manifests/cm.yaml?ref={COMMIT}"
    overlay(tmp_path, listener, ["resources:", f"  - {remote}"])
    base = [sys.executable, "-m", "handoff", "validate", "--config-repo", str(tmp_path), "--env", "dev"]
    refused = subprocess.run(base, capture_output=True, text=True, timeout=300, check=False)
    assert refused.returncode != 0 and listener.requests == []
    allowed = subprocess.run([*base, "--allow-remote", remote], capture_output=True, text=True, timeout=300, check=False)
    assert allowed.returncode == 0, allowed.stderr
    assert listener.requests
