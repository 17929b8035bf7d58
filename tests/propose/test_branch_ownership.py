"""A rolling branch is force-pushed, so propose owns only branches under `handoff/`: a template from
the repo (or the command line) resolving to a base, default or environment branch is refused before
any push, and the remote is left exactly as it was."""

from __future__ import annotations

import pytest

from handoff.errors import ConfigError
from tests.harness.git_server import GitServer
from tests.propose.helpers import git, propose_on

MARKERS = "web:\n  image: registry.example/web:1.0.0 # handoff:image web\n"
CONFIG = """environments:
  dev: {}
  prod: {branch: prod}
apps:
  web:
    image: registry.example/web
    targets: [{type: marker, path: apps.yaml}]
propose:
  branch: "%s"
"""


def heads(server: GitServer) -> str:
    return git("--git-dir", str(server.bare_path("cfg")), "for-each-ref", "--format=%(refname) %(objectname)")


@pytest.mark.parametrize("template", ["prod", "main", "{env}", "handoff", "release/{env}-{app}"])
def test_a_template_outside_the_prefix_or_onto_a_used_branch_is_refused(git_server: GitServer,
                                                                         template: str) -> None:
    url = git_server.create_repo("cfg", {"apps.yaml": MARKERS, ".handoff.yaml": CONFIG % template})
    git("--git-dir", str(git_server.bare_path("cfg")), "branch", "prod", "main")
    before = heads(git_server)
    with pytest.raises(ConfigError, match="proposal branch"):
        propose_on(git_server, url, "registry.example/web:1.1.0", env="dev")
    assert heads(git_server) == before


def test_a_branch_template_on_the_command_line_is_held_to_the_same_rule(git_server: GitServer) -> None:
    url = git_server.create_repo("cfg", {"apps.yaml": MARKERS})
    before = heads(git_server)
    with pytest.raises(ConfigError, match="not under 'handoff/'"):
        propose_on(git_server, url, "registry.example/web:1.1.0", branch_template="main")
    assert heads(git_server) == before


def test_a_prefixed_template_still_works(git_server: GitServer) -> None:
    url = git_server.create_repo("cfg", {"apps.yaml": MARKERS, ".handoff.yaml": CONFIG % "handoff/deploy-{app}-{env}"})
    assert propose_on(git_server, url, "registry.example/web:1.1.0", env="dev").branch == "handoff/deploy-web-dev"


ENV_BRANCH_CONFIG = """environments:
  dev: {}
  prod: {branch: "%s"}
apps:
  web:
    image: registry.example/web
    targets: [{type: marker, path: apps.yaml}]
propose:
  branch: "handoff/{env}"
"""


@pytest.mark.parametrize("env_branch", ["handoff/prod", "handoff/Prod"])
def test_an_environment_branch_under_the_prefix_is_still_protected(git_server: GitServer, env_branch: str) -> None:
    # prod lives on a branch under handoff/ (in another case, too: one ref on a case-insensitive host):
    # proposing for --env prod would force-push over the environment itself
    url = git_server.create_repo("cfg", {"apps.yaml": MARKERS, ".handoff.yaml": ENV_BRANCH_CONFIG % env_branch})
    git("--git-dir", str(git_server.bare_path("cfg")), "branch", env_branch, "main")
    before = heads(git_server)
    with pytest.raises(ConfigError, match="is a base or environment branch"):
        propose_on(git_server, url, "registry.example/web:1.1.0", env="prod")
    assert heads(git_server) == before
