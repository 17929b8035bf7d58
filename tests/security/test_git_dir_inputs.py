"""Nothing under a ``.git`` directory is a render input, though it lies inside the repo root (issue 13,
atk13c finding 5): a CI checkout keeps its token in ``.git/config``. The one containment function
(``handoff.pathsafe``) counts any resolved path with a ``.git`` component as outside; each reader's variant
is refused with one line naming the link, or the kustomization file, line and key. Real git, helm and
kustomize.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from handoff.config import load_config
from handoff.errors import ConfigError, PathEscapeError
from handoff.render import render_env, render_path
from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools

TOKEN = "ghs_gitDirInputsToken000000000001"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n"
CHART = "apiVersion: v2\nname: web\nversion: 0.1.0\n"


def _repo(root: Path, files: dict[str, str], links: dict[str, str] | None = None) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run([str(require_tool("git")), "init", "-q", str(root)], check=True, env=env)
    subprocess.run([str(require_tool("git")), "-C", str(root), "config", "http.https://github.com/.extraheader",
                    f"AUTHORIZATION: basic {TOKEN}"], check=True, env=env)
    for name, target in (links or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to(target)
    return root


def _refusal(repo: Path, path: str, **kw: str) -> str:
    with pytest.raises(PathEscapeError) as caught:
        render_path(repo / path, repo=repo, **kw)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message and TOKEN not in message
    return message


def test_a_kustomize_generator_naming_git_config_is_refused_at_its_key(tmp_path: Path) -> None:
    require_tool("kustomize")
    repo = _repo(tmp_path / "repo", {
        "kustomization.yaml": "resources: [cm.yaml]\nconfigMapGenerator:\n  - name: leak\n    files: [.git/config]\n",
        "cm.yaml": CM})
    message = _refusal(repo, ".", kind="kustomize")
    assert "kustomization.yaml:4" in message and "configMapGenerator[0].files[0]" in message, message
    assert "into a .git directory" in message, message


def test_a_kustomize_resource_link_into_git_is_refused(tmp_path: Path) -> None:
    require_tool("kustomize")
    repo = _repo(tmp_path / "repo", {"app/kustomization.yaml": "resources: [cm.yaml, cfg.yaml]\n",
                                     "app/cm.yaml": CM}, {"app/cfg.yaml": "../.git/config"})
    message = _refusal(repo, "app", kind="kustomize")
    assert "app/cfg.yaml -> ../.git/config: a symlink into a .git directory" in message, message


@pytest.mark.parametrize("target", ["../.git/config", "../.GIT/config", "../.git"])
def test_a_chart_link_into_git_is_refused_naming_the_link(tmp_path: Path, target: str) -> None:
    repo = _repo(tmp_path / "repo", {"chart/Chart.yaml": CHART, "chart/templates/cm.yaml": CM},
                 {"chart/gitcfg": target})
    if target == "../.GIT/config":
        (repo / ".GIT").mkdir()
        (repo / ".GIT" / "config").write_text(TOKEN)
    message = _refusal(repo, "chart", kind="helm")
    assert message.startswith(f"chart/gitcfg -> {target}: a symlink into a .git directory"), message


def test_a_link_through_a_worktree_gitfile_target_is_refused(tmp_path: Path) -> None:
    """A submodule's or worktree's ``.git`` file points into ``.git/modules/…``: a link there too."""
    repo = _repo(tmp_path / "repo", {"chart/Chart.yaml": CHART, "chart/templates/cm.yaml": CM,
                                     ".git/modules/sub/config": f"[remote]\n  url = https://x:{TOKEN}@h/r\n"},
                 {"chart/sub": "../.git/modules/sub"})
    message = _refusal(repo, "chart", kind="helm")
    assert message.startswith("chart/sub -> ../.git/modules/sub: a symlink into a .git directory"), message


def test_a_chart_at_the_repo_root_renders_without_its_git_directory(tmp_path: Path) -> None:
    """A one-chart repo (the chart at the root) is a common layout: it renders, and helm is not given the
    checkout's ``.git``, so neither ``.Files.Get`` nor ``.Files.Glob`` reaches ``.git/config``."""
    require_tool("helm")
    leak = ('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n'
            '  get: {{ .Files.Get ".git/config" | b64enc | quote }}\n'
            '  glob: "{{ range $p, $_ := .Files.Glob "**" }}{{ $p }},{{ end }}"\n')
    repo = _repo(tmp_path / "repo", {"Chart.yaml": CHART, "templates/cm.yaml": CM, "templates/leak.yaml": leak,
                                     "values.yaml": "a: 1\n", "README.md": "web\n"})
    result = render_path(repo, repo=repo, kind="helm")
    data = next(o.obj["data"] for o in result.objects if o.obj["metadata"]["name"] == "leak")
    assert data["get"] == "", data
    assert ".git" not in data["glob"] and "README.md" in data["glob"], data
    assert (repo / ".git" / "config").is_file()  # untouched: only what helm is given leaves it out


def test_a_git_directory_below_the_chart_top_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", {"chart/Chart.yaml": CHART, "chart/templates/cm.yaml": CM,
                                     "chart/charts/sub/.git/config": TOKEN})
    message = _refusal(repo, "chart", kind="helm")
    assert message.startswith("chart/charts/sub/.git: a .git directory"), message


def test_a_plain_manifest_link_into_git_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", {"app/cm.yaml": CM}, {"app/head.yaml": "../.git/HEAD"})
    message = _refusal(repo, "app", kind="plain")
    assert message.startswith("app/head.yaml -> ../.git/HEAD: a symlink into a .git directory"), message


def test_a_declared_values_file_under_git_is_refused_at_its_key(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", {
        ".handoff.yaml": "environments:\n  dev: {render: {type: helm, path: chart, values: [.git/config]}}\n",
        "chart/Chart.yaml": CHART, "chart/templates/cm.yaml": CM})
    config = load_config(repo)
    assert config is not None
    with pytest.raises(PathEscapeError, match=r"environments\.dev\.render\.values.*inside a \.git directory"):
        render_env(repo, config, "dev")


def test_a_config_link_into_git_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", {}, {".handoff.yaml": ".git/config"})
    with pytest.raises((PathEscapeError, ConfigError)) as caught:
        load_config(repo)
    assert TOKEN not in str(caught.value) and ".git directory" in str(caught.value)


def test_in_repo_links_and_dot_github_still_render(tmp_path: Path) -> None:
    require_tool("helm")
    repo = _repo(tmp_path / "repo", {"chart/Chart.yaml": CHART, "chart/templates/cm.yaml": CM,
                                     ".github/shared.txt": "ok", ".gitignore": "x\n"},
                 {"chart/shared.txt": "../.github/shared.txt", "chart/ignore": "../.gitignore"})
    result = render_path(repo / "chart", repo=repo, kind="helm")
    assert [o.obj["metadata"]["name"] for o in result.objects] == ["web"]


def test_an_inline_generator_config_naming_git_config_is_refused(tmp_path: Path) -> None:
    gen = "apiVersion: builtin\nkind: SecretGenerator\nmetadata:\n  name: s\nenvs: [.git/config]\n"
    repo = _repo(tmp_path / "repo", {"kustomization.yaml": "resources: [cm.yaml]\ngenerators:\n  - |\n"
                                     + "".join(f"    {line}\n" for line in gen.splitlines()), "cm.yaml": CM})
    message = _refusal(repo, ".", kind="kustomize")
    assert "generators[0]: envs[0]" in message and "into a .git directory" in message, message


def test_a_patch_transformer_config_path_leaving_the_repo_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text(CM)
    patch = "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\npath: ../outside.yaml\n"
    repo = _repo(tmp_path / "repo", {"kustomization.yaml": "resources: [cm.yaml]\ntransformers: [patch.yaml]\n",
                                     "cm.yaml": CM, "patch.yaml": patch})
    message = _refusal(repo, ".", kind="kustomize")
    assert message.startswith("patch.yaml:5") and "path" in message, message
