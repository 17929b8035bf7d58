"""Installed as a user installs it: the wheel and sdist built from this tree, pip-installed into a fresh
virtualenv outside the source tree with the locked dependency versions, then the README's "First run"
block executed as written with that venv's `handoff`, on the example Kustomize repo and on a Helm repo."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness.tools import require_tool

from .paths import REPO

DISTRIBUTION = "handoff-gitops"
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "user", "GIT_AUTHOR_EMAIL": "user@example.com",
                "GIT_COMMITTER_NAME": "user", "GIT_COMMITTER_EMAIL": "user@example.com"}
HELM_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "values.yaml": "image:\n  repository: ghcr.io/acme/web\n  tag: 1.0.0\n",
    "templates/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n"
        "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
        "    spec:\n      containers:\n        - name: web\n"
        '          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'),
    ".handoff.yaml": (
        "environments:\n  dev: {render: {type: helm, path: ., release: web, namespace: web}}\n"
        "apps:\n  web:\n    image: ghcr.io/acme/web\n    targets:\n"
        "      - {type: helm, path: values.yaml, repository: image.repository, tag: image.tag}\n"),
}


@dataclass(frozen=True)
class InstalledVenv:
    root: Path
    dist: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"


def _run(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None,
         timeout: int = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=timeout)
    assert proc.returncode == 0, f"{argv} exited {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def _user_env(venv: InstalledVenv) -> dict[str, str]:
    """A shell as the user has it after `pip install`: the venv's bin first, kustomize and helm on PATH
    (not kubeconform: the schema engine must come with the install), nothing pointing into this tree."""
    renderers = venv.root.parent / "renderers"
    renderers.mkdir(exist_ok=True)
    for name in ("kustomize", "helm"):
        if not (renderers / name).exists():
            (renderers / name).symlink_to(require_tool(name))
    path = os.pathsep.join([str(venv.bin), str(renderers), "/usr/local/bin", "/usr/bin", "/bin"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "HANDOFF_"))}
    return {**env, **GIT_IDENTITY, "PATH": path}


def _pip_env() -> dict[str, str]:
    # The suite points XDG_CACHE_HOME at a throw-away home; keep pip's downloads in the real user's cache.
    real_home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.setdefault("PIP_CACHE_DIR", str(real_home / ".cache" / "pip"))
    return {**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> InstalledVenv:
    base = tmp_path_factory.mktemp("user")
    dist = base / "dist"
    # python -m build makes the sdist, then the wheel from that sdist: a file the sdist lacks fails here.
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)], cwd=base, env=_pip_env())
    venv = InstalledVenv(base / "venv", dist)
    _run([sys.executable, "-m", "venv", str(venv.root)], cwd=base)
    wheel = next(dist.glob("*.whl"))
    _run([str(venv.bin / "python"), "-m", "pip", "install", "--quiet", "-c", str(REPO / "requirements.lock"),
          str(wheel)], cwd=base, env=_pip_env())
    return venv


def _first_run_block() -> str:
    """The README's "First run" shell block, verbatim."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("### First run", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match is not None, "README.md: no ```sh block under '### First run'"
    return match.group(1)


def _config_repo(parent: Path, files: dict[str, str] | Path) -> Path:
    """A clone at parent/config whose origin is the bare parent/remote.git, as the walkthrough assumes."""
    work = parent / "config"
    if isinstance(files, Path):
        shutil.copytree(files, work)
    else:
        for name, text in files.items():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text(text)
    env = {**os.environ, **GIT_IDENTITY}
    _run(["git", "init", "-q", "-b", "main"], cwd=work, env=env)
    _run(["git", "add", "-A"], cwd=work, env=env)
    _run(["git", "commit", "-qm", "config repo"], cwd=work, env=env)
    _run(["git", "clone", "-q", "--bare", str(work), str(parent / "remote.git")], cwd=parent, env=env)
    _run(["git", "remote", "add", "origin", str(parent / "remote.git")], cwd=work, env=env)
    return work


def _show(remote: Path, spec: str) -> str:
    return _run(["git", "--git-dir", str(remote), "show", spec], cwd=remote).stdout


def test_metadata_names_our_distribution_and_the_default_engines() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION
    assert project["scripts"] == {"handoff": "handoff.cli:main"}
    defaults = {re.split(r"[<>=!~ \[]", d, maxsplit=1)[0].lower() for d in project["dependencies"]}
    # what `validate` (schemas) and `propose` to GitHub/GitLab need, with no extras
    assert {"kubernetes-validate", "pygithub", "python-gitlab"} <= defaults
    extras = project["optional-dependencies"]
    assert {"rego", "reconciler", "docker", "all", "schemas", "forge"} <= set(extras)
    assert all(req.startswith(f"{DISTRIBUTION}[") for req in extras["all"])


@pytest.mark.slow
@pytest.mark.tools
@pytest.mark.timeout(1200)
def test_the_installed_wheel_runs_the_readme_walkthrough(installed: InstalledVenv, tmp_path: Path) -> None:
    assert sorted(p.name for p in installed.dist.iterdir()) == [
        "handoff_gitops-0.1.0-py3-none-any.whl", "handoff_gitops-0.1.0.tar.gz"]
    env = _user_env(installed)
    assert shutil.which("kubeconform", path=env["PATH"]) is None  # validate runs on the built-in engine
    where = _run(["handoff", "--version"], cwd=tmp_path, env=env)
    assert "0.1.0" in where.stdout
    origin = _run(["python", "-c", "import handoff; print(handoff.__file__)"], cwd=tmp_path, env=env).stdout
    assert Path(origin.strip()).is_relative_to(installed.root), origin  # the installed copy, not this tree
    assert _run(["sh", "-c", "command -v handoff"], cwd=tmp_path, env=env).stdout.strip() == str(
        installed.bin / "handoff")

    config = _config_repo(tmp_path, REPO / "examples" / "config-repo")
    remote = tmp_path / "remote.git"
    run = _run(["bash", "-euo", "pipefail", "-c", _first_run_block()], cwd=tmp_path, env=env)
    out = run.stdout

    assert "envs/dev/kustomization.yaml:8: images[name=ghcr.io/acme/web].newTag: 1.4.1 -> 1.5.0" in out
    assert "envs/dev/kustomization.yaml | 2 +-" in out  # the write changed only the image values
    assert re.search(r"\d+ objects in \d+ files?: \d+ valid, 0 invalid", out), out
    assert "validation passed" in out, out
    assert "handoff/dev/web" in out
    assert _run(["git", "status", "--porcelain"], cwd=config).stdout == ""  # the checkout is left clean
    assert "newTag: 1.5.0" in _show(remote, "handoff/dev/web:envs/dev/kustomization.yaml")
    proposal = _show(remote, "handoff/dev/web:.handoff/proposals/dev-web.md")
    assert "ghcr.io/acme/web:1.5.0" in proposal
    assert "newTag: 1.4.1" in _show(remote, "main:envs/dev/kustomization.yaml")  # main is untouched


@pytest.mark.slow
@pytest.mark.tools
@pytest.mark.timeout(1200)
def test_the_installed_wheel_proposes_on_a_helm_repo(installed: InstalledVenv, tmp_path: Path) -> None:
    env = _user_env(installed)
    config = _config_repo(tmp_path, HELM_CHART)
    remote = tmp_path / "remote.git"
    validate = _run(["handoff", "validate", "--env", "dev"], cwd=config, env=env)
    assert "1 valid, 0 invalid" in validate.stdout, validate.stdout
    _run(["handoff", "propose", "--image", "ghcr.io/acme/web:2.0.0", "--app", "web", "--env", "dev",
          "--config-repo", str(remote), "--forge", "local"], cwd=tmp_path, env=env)
    assert "tag: 2.0.0" in _show(remote, "handoff/dev/web:values.yaml")


@pytest.mark.slow
@pytest.mark.tools
@pytest.mark.timeout(1200)
def test_the_sdist_installs_with_its_package_data(installed: InstalledVenv, tmp_path: Path) -> None:
    """The sdist, installed over the wheel (pip builds it): the policy pack and config schema come along."""
    sdist = next(installed.dist.glob("*.tar.gz"))
    other = tmp_path / "sdist-venv"
    _run([sys.executable, "-m", "venv", str(other)], cwd=tmp_path)
    # Dependencies come from the wheel venv (already installed there); only handoff is built from the sdist.
    site = _run([str(installed.bin / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                cwd=tmp_path).stdout.strip()
    pth = next((other / "lib").glob("python*/site-packages"))
    (pth / "deps-from-wheel-venv.pth").write_text(site + "\n")
    _run([str(other / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "--ignore-installed",
          str(sdist)], cwd=tmp_path, env=_pip_env())
    env = {**_user_env(installed), "PATH": f"{other / 'bin'}{os.pathsep}{_user_env(installed)['PATH']}"}
    origin = _run(["python", "-c", "import handoff; print(handoff.__file__)"], cwd=tmp_path, env=env).stdout
    assert Path(origin.strip()).is_relative_to(other), origin
    listed = _run(["handoff", "policy", "list"], cwd=tmp_path, env=env).stdout
    assert "disallow-latest-tag" in listed
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    assert "1 valid" in _run(["handoff", "validate", "cm.yaml"], cwd=tmp_path, env=env).stdout
