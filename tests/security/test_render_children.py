"""The renderer children: an allow-listed environment (no tokens, kubeconfig, cloud credentials or proxies),
a working directory in the render root, and bounded output (the child is killed past the stdout cap; a
render over the object or size cap is one line naming the renderer and the cap, not an OOM).

The 20,000-object chart of issue 13 goes through ``handoff validate --env`` and ``reconcile --once`` (real
helm, real kube-apiserver); the reconciler's peak RSS is printed (and recorded as a test property), and
held under the documented 256 MiB limit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from handoff.errors import ConfigError, RenderError
from handoff.manifests.bounds import RenderLimits
from handoff.reconciler.config import load_settings
from handoff.render import render_path
from handoff.toolrun import CLOSED_PROXY, run_tool, sandboxed
from tests.harness.git_server import GitServer
from tests.harness.memory import peak_rss
from tests.harness.tools import require_tool
from tests.reconciler.cluster import new_cluster

pytestmark = pytest.mark.tools

CANARY = "canary-7f3d9a1c2b"
# what a CI job or a reconciler Pod may hold; none of it may reach a renderer
SECRETS = {"GITHUB_TOKEN": CANARY, "GH_TOKEN": CANARY, "GITLAB_TOKEN": CANARY, "CI_JOB_TOKEN": CANARY,
           "HANDOFF_TOKEN": CANARY, "KUBECONFIG": f"/tmp/{CANARY}", "AWS_SECRET_ACCESS_KEY": CANARY,
           "AWS_SESSION_TOKEN": CANARY, "GOOGLE_APPLICATION_CREDENTIALS": f"/tmp/{CANARY}",
           "AZURE_CLIENT_SECRET": CANARY, "HTTPS_PROXY": f"http://user:{CANARY}@proxy.example:3128",
           "http_proxy": f"http://user:{CANARY}@proxy.example:3128", "NO_PROXY": CANARY, "SSH_AUTH_SOCK": CANARY,
           "GIT_ASKPASS": CANARY, "DOCKER_CONFIG": CANARY, "VAULT_TOKEN": CANARY}
ALLOWED = {"PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME",
           "XDG_STATE_HOME", "HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME", "HELM_REPOSITORY_CONFIG",
           "HELM_REGISTRY_CONFIG", "HELM_REPOSITORY_CACHE", "GIT_CONFIG_NOSYSTEM", "GIT_TERMINAL_PROMPT",
           "GIT_ALLOW_PROTOCOL", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
           "NO_PROXY", "no_proxy", "GOMEMLIMIT"}
MIB = 1024 * 1024


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LANG", "C.UTF-8")


def child_env(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


@pytest.mark.usefixtures("secrets")
def test_a_child_sees_exactly_the_allow_list(tmp_path: Path) -> None:
    env = child_env(run_tool(["/usr/bin/env"], what="env", cwd=tmp_path))
    assert set(env) <= ALLOWED and set(env) >= ALLOWED - {"LC_ALL"}, sorted(set(env) ^ ALLOWED)
    assert CANARY not in "".join(f"{k}={v}" for k, v in env.items())
    assert env["PATH"] == os.environ["PATH"] and env["LANG"] == "C.UTF-8"
    assert env["HOME"] != os.environ["HOME"] and env["HOME"].startswith(env["TMPDIR"].rsplit("/", 1)[0])
    assert {env[p] for p in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy")} == {CLOSED_PROXY}
    assert env["GIT_ALLOW_PROTOCOL"] == "file"
    # helm's repository and registry configs are empty throwaway files
    assert Path(env["HELM_REPOSITORY_CONFIG"]).name == "repositories.yaml"
    assert not Path(env["HOME"]).exists(), "the throwaway HOME outlives the child"


@pytest.mark.usefixtures("secrets")
def test_proc_self_environ_of_a_child_holds_no_secret(tmp_path: Path) -> None:
    """What a chart reading ``/proc/self/environ`` (issue 13's attack) would see: the sandbox, nothing more."""
    environ = run_tool(["cat", "/proc/self/environ"], what="cat", cwd=tmp_path)
    assert CANARY not in environ and "GITHUB" not in environ and "KUBECONFIG" not in environ


@pytest.mark.usefixtures("secrets")
def test_an_online_child_gets_no_proxy_either(tmp_path: Path) -> None:
    """An operator-allowed remote lifts the closed proxy, never passes the job's (credential-bearing) one."""
    with sandboxed(offline=False) as env:
        assert not {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "NO_PROXY", "GIT_ALLOW_PROTOCOL"} & set(env)
        assert CANARY not in "".join(env.values())


def test_the_child_runs_in_the_render_root(tmp_path: Path) -> None:
    assert run_tool(["pwd", "-P"], what="pwd", cwd=tmp_path).strip() == str(tmp_path.resolve())


def test_stdout_past_the_cap_kills_the_child(tmp_path: Path) -> None:
    """``yes`` never ends: the runner must stop reading at the cap and kill it, not buffer forever."""
    pidfile = tmp_path / "pid"
    with pytest.raises(RenderError, match=r"^helm template chart: sh output over the 1048576-byte render output "
                                          r"cap \(--max-render-output-bytes"):
        run_tool(["sh", "-c", f"echo $$ > {pidfile}; exec yes"], what="helm template chart", cwd=tmp_path,
                 max_stdout=MIB, cap_hint="--max-render-output-bytes")
    assert not Path(f"/proc/{pidfile.read_text().strip()}").exists()


def write_chart(root: Path, objects: int, payload: int) -> Path:
    chart = root / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: big\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(f"count: {objects}\npayload: {'x' * payload}\n")
    (chart / "templates/cms.yaml").write_text(
        "{{- range $i := until (int .Values.count) }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
        "  name: cm-{{ $i }}\ndata:\n  payload: {{ $.Values.payload | quote }}\n{{- end }}\n")
    (root / ".handoff.yaml").write_text("environments:\n  dev: {render: {type: helm, path: chart}}\n")
    return chart


# 20,000 objects as issue 13 had them (22 MB: the stdout cap), and as small objects (the object cap)
BIG = {"22MB": (1000, "helm output over the 16777216-byte render output cap"),
       "small": (10, "20000 objects, over the 10000-object cap")}


@pytest.mark.parametrize("shape", sorted(BIG))
def test_the_20000_object_chart_fails_validate_with_a_size_error(shape: str, tmp_path: Path) -> None:
    require_tool("helm")
    payload, error = BIG[shape]
    write_chart(tmp_path, 20_000, payload)
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(tmp_path), "--env", "dev"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and error in lines[0], lines


def test_caps_are_configurable_by_flag_and_environment(tmp_path: Path) -> None:
    require_tool("helm")
    write_chart(tmp_path, 30, 10)
    base = [sys.executable, "-m", "handoff", "validate", "--config-repo", str(tmp_path), "--env", "dev"]

    def stderr(*extra: str, env: dict[str, str] | None = None) -> str:
        return subprocess.run([*base, *extra], capture_output=True, text=True, timeout=300, check=False,
                              env={**os.environ, **(env or {})}).stderr

    assert "30 objects, over the 20-object cap" in stderr("--max-render-objects", "20")
    assert "30 objects, over the 25-object cap" in stderr(env={"HANDOFF_MAX_RENDER_OBJECTS": "25"})
    assert "over the 1000-byte render output cap" in stderr("--max-render-output-bytes", "1000")
    assert "over the 2000-byte total render size cap" in stderr("--max-render-total-bytes", "2000")
    assert stderr() == ""  # within the defaults it validates


def test_charts_with_in_repo_symlinks_still_render_in_the_sandbox(tmp_path: Path, secrets: None) -> None:
    require_tool("helm")
    require_tool("kustomize")
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "files").mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 0.1.0\n")
    (chart / "files/cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
                                         "data:\n  home: {{ .Files.Get \"files/note.txt\" | quote }}\n")
    (chart / "files/note.txt").write_text("hello\n")
    (chart / "templates/cm.yaml").symlink_to("../files/cm.yaml")
    result = render_path(chart, repo=tmp_path, release="web")
    assert [(o.ref.name, o.obj["data"]["home"]) for o in result.objects] == [("web", "hello\n")]
    overlay = tmp_path / "overlay"
    (overlay / "real").mkdir(parents=True)
    (overlay / "real/cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: linked\n")
    (overlay / "cm.yaml").symlink_to("real/cm.yaml")
    (overlay / "kustomization.yaml").write_text("resources:\n  - cm.yaml\n")
    assert [o.ref.name for o in render_path(overlay, repo=tmp_path).objects] == ["linked"]


@pytest.mark.parametrize("shape", sorted(BIG))
def test_the_20000_object_chart_fails_reconcile_once_within_256mi(shape: str, apiserver: Any, git_server: GitServer,
                                                                  tmp_path: Path, record_property: Any) -> None:
    require_tool("helm")
    payload, error = BIG[shape]
    files_dir = tmp_path / "files"
    write_chart(files_dir, 20_000, payload)
    files = {f"app/{p.relative_to(files_dir / 'chart')}": p.read_text()
             for p in (files_dir / "chart").rglob("*") if p.is_file()}
    c = new_cluster(apiserver, git_server, tmp_path, files)
    argv = [sys.executable, "-m", "handoff", "reconcile", "--kubeconfig", str(apiserver.kubeconfig), "--repo", c.url,
            "--path", "app", "--revision", "main", "--name", f"src-{c.target_ns}", "--target-namespace", c.target_ns,
            "--namespace", c.control_ns, "--token-file", str(c.token_file), "--git-username", c.username,
            "--workdir", str(c.workdir), "--renderer", "helm", "--no-leader-elect", "--once"]
    code, own_kib, tree_kib = peak_rss(argv, tmp_path / "reconcile.log")
    log = (tmp_path / "reconcile.log").read_text(errors="replace")
    print(f"\nreconcile --once, 20,000-object chart ({shape}): peak RSS {own_kib / 1024:.1f} MiB (reconciler), "
          f"{tree_kib / 1024:.1f} MiB (largest of it and helm), {(own_kib + tree_kib) / 1024:.1f} MiB (their sum, "
          "an upper bound of the Pod's)")
    record_property(f"reconciler_peak_rss_mib_{shape}", round(own_kib / 1024, 1))
    record_property(f"reconciler_or_helm_peak_rss_mib_{shape}", round(tree_kib / 1024, 1))
    assert code != 0, log
    assert error.replace("helm output", "helm") in log or error in log, log
    assert c.status().get("result") != "succeeded"
    assert own_kib < 256 * 1024


def test_the_reconciler_config_sets_the_caps_for_every_source(tmp_path: Path) -> None:
    config = tmp_path / "reconciler.yaml"
    config.write_text("render:\n  maxObjects: 5\n  maxOutputBytes: 4096\nsources:\n"
                      "  - {name: a, url: https://example.com/a.git}\n  - {name: b, url: https://example.com/b.git}\n")
    limits = {s.name: s.render_limits for s in load_settings(config).sources}
    assert limits == {"a": RenderLimits(max_objects=5, max_output_bytes=4096),
                      "b": RenderLimits(max_objects=5, max_output_bytes=4096)}
    config.write_text("render:\n  maxObjects: 0\nsources:\n  - {name: a, url: https://example.com/a.git}\n")
    with pytest.raises(ConfigError, match=r"reconciler.yaml:2"):
        load_settings(config)


def test_a_source_over_its_object_cap_fails_the_pass_and_applies_nothing(apiserver: Any, git_server: GitServer,
                                                                         tmp_path: Path) -> None:
    require_tool("kustomize")
    files = {"app/kustomization.yaml": "resources:\n  - a.yaml\n  - b.yaml\n",
             "app/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
             "app/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n"}
    c = new_cluster(apiserver, git_server, tmp_path, files)
    capped = {"render_limits": RenderLimits(max_objects=1)}
    result = c.reconciler(**capped).reconcile(c.source(**capped))
    assert not result.ok
    assert "2 objects, over the 1-object cap" in result.message
    assert c.get("v1", "ConfigMap", "a") is None
