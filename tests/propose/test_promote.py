"""Promote against the harness git server: the source env's image is proposed to the target env."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from handoff.git.repo import GitAuth
from handoff.workflows.promote import PromotionRefused, promote
from handoff.workflows.propose import ProposeOptions
from tests.harness.git_server import GitServer
from tests.reconciler.gitrepo import WorkRepo

CONFIG = """\
environments:
  staging: {}
  prod: {params: {require-image-digest: {enabled: %s}}}
apps:
  web:
    image: registry.example/web
    targets:
      - type: marker
        path: envs/{env}/values.yaml
"""
DIGEST = "sha256:" + "a" * 64


def files(require_digest: bool, staging_image: str) -> dict[str, str | bytes]:
    return {
        ".handoff.yaml": CONFIG % ("true" if require_digest else "false"),
        "envs/staging/values.yaml": f"image: {staging_image} # handoff:image web\n",
        "envs/prod/values.yaml": "image: registry.example/web:1.0.0 # handoff:image web\n",
    }


def options(server: GitServer, url: str) -> ProposeOptions:
    assert server.username and server.password
    return ProposeOptions(image="", app="web", env="prod", config_repo=url,
                          git_auth=GitAuth(server.username, server.password))


def test_promote_proposes_the_source_image_to_the_target(git_server: GitServer) -> None:
    """staging's image becomes a rolling PR for prod; staging itself is untouched."""
    url = git_server.create_repo("promo", files(False, "registry.example/web:1.3.0"))
    result = promote(options(git_server, url), source_env="staging")
    assert (result.operation, result.branch) == ("created", "handoff/prod/web")
    bare = str(git_server.bare_path("promo"))
    prod = subprocess.run(["git", "--git-dir", bare, "show", "handoff/prod/web:envs/prod/values.yaml"],
                          check=True, capture_output=True, text=True).stdout
    assert prod == "image: registry.example/web:1.3.0 # handoff:image web\n"


def test_promote_refuses_without_digest_when_target_requires_one(git_server: GitServer) -> None:
    """A target env with the require-image-digest policy enabled refuses an image that has no digest; with one it proceeds."""
    url = git_server.create_repo("nodigest", files(True, "registry.example/web:1.3.0"))
    with pytest.raises(PromotionRefused, match="requires a digest"):
        promote(options(git_server, url), source_env="staging")
    url = git_server.create_repo("digest", files(True, f"registry.example/web:1.3.0@{DIGEST}"))
    assert promote(options(git_server, url), source_env="staging").operation == "created"


def test_the_targets_digest_policy_comes_from_the_base_branch_not_the_source_envs_branch(
        git_server: GitServer, tmp_path: Path) -> None:
    """staging lives on its own branch, whose .handoff.yaml (anyone pushing to staging writes it) turns
    prod's require-image-digest off: prod's policy is the base branch's, so the digest-less image is
    still refused."""
    url = git_server.create_repo("branchpolicy", files(True, "registry.example/web:1.0.0"))
    auth_url = url.replace("http://", f"http://{git_server.username}:{git_server.password}@")
    staging = WorkRepo(tmp_path / "staging", auth_url, branch="staging")
    base_config = CONFIG % "true"
    staging.commit({".handoff.yaml": base_config.replace("  staging: {}", "  staging: {branch: staging}")
                    .replace("enabled: true", "enabled: false"),
                    "envs/staging/values.yaml": "image: registry.example/web:1.3.0 # handoff:image web\n"},
                   "staging: web 1.3.0, and prod needs no digest")
    WorkRepo(tmp_path / "main", auth_url).commit(
        {".handoff.yaml": base_config.replace("  staging: {}", "  staging: {branch: staging}")},
        "staging lives on its branch")
    with pytest.raises(PromotionRefused, match="requires a digest"):
        promote(options(git_server, url), source_env="staging")
