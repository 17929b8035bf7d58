"""atk13i: ``promote`` end to end from a hostile source environment (real git server, real kustomize).

The source environment's kustomization (anyone who can push the config repo writes it) uses a YAML merge key
written after ``resources:``: go-yaml v2 (kustomize) lets the merge override the explicit list, PyYAML
(handoff's remote scan) keeps the explicit one (see ``test_atk13i_kustomize_merge_keys``). ``promote`` validates
the source environment before proposing: that render must fetch nothing.

What should hold: a render at ``promote`` time fetches nothing (a 127.0.0.1 listener gets zero requests), or
the kustomization is refused with file, line and key.
"""

from __future__ import annotations

import pytest

from handoff.errors import HandoffError
from handoff.git.repo import GitAuth
from handoff.workflows.promote import promote
from handoff.workflows.propose import ProposeOptions
from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool
from tests.security.test_render_network import Listener, listener  # noqa: F401 (fixture)

pytestmark = pytest.mark.tools

CONFIG = """\
environments:
  staging: {render: {type: kustomize, path: envs/staging}}
  prod: {render: {type: kustomize, path: envs/prod}}
apps:
  web:
    image: registry.example/web
    targets:
      - type: marker
        path: envs/{env}/deploy.yaml
"""
DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.example/web:%s # handoff:image web
"""


def test_promote_from_a_source_env_with_a_merge_key_fetches_nothing(
        git_server: GitServer, listener: Listener) -> None:  # noqa: F811
    require_tool("kustomize")
    url = git_server.create_repo("hostile-source", {
        ".handoff.yaml": CONFIG,
        "envs/staging/deploy.yaml": DEPLOY % "1.3.0",
        "envs/staging/kustomization.yaml": (f"resources: [deploy.yaml]\n"
                                            f"<<: {{resources: [deploy.yaml, {listener.url}/cm.yaml]}}\n"),
        "envs/prod/deploy.yaml": DEPLOY % "1.0.0",
        "envs/prod/kustomization.yaml": "resources: [deploy.yaml]\n",
    })
    assert git_server.username and git_server.password
    opts = ProposeOptions(image="", app="web", env="prod", config_repo=url,
                          git_auth=GitAuth(git_server.username, git_server.password))
    try:
        outcome = repr(promote(opts, source_env="staging"))
    except HandoffError as e:
        outcome = f"refused: {e}"
    assert listener.requests == [], (f"promote's validation of the source env fetched {listener.requests} at "
                                     f"render time through a merge key written after `resources:`: {outcome[:400]}")
