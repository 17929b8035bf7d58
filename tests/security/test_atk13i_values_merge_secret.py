"""atk13i: a values-file password reached through a YAML merge key that Helm (go-yaml v2) resolves otherwise
than handoff (PyYAML).

``propose`` masks the values-file diff with the values leaves that reach a Secret (atk13g's fix). A values
file ``dbPassword: decoy`` then ``<<: {dbPassword: <password>}`` is ``<password>`` for Helm (go-yaml v2 lets a
later merge override the explicit key) and ``decoy`` for handoff, so the leaf the chart composes into the
Secret is, for handoff's masking, not in the values file at all, while the line holding it sits beside the
image line in the proposal's file diff. What should hold: no values-file scalar that reaches a Secret's value
shows in the PR body, md, json or the result.
"""

from __future__ import annotations

import pytest

from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool
from tests.propose.helpers import propose_on, show
from tests.security.leaks import leaks
from tests.security.test_secret_values import chart_files

PASSWORD = "Pg-atk13i-merged-passw0rd-41d9"


@pytest.mark.tools
def test_a_merged_values_password_composed_into_a_secret_shows_nowhere_in_the_proposal(
        git_server: GitServer) -> None:
    require_tool("helm")
    files = chart_files()
    files["envs/dev/values.yaml"] = ("image: registry.example/web:1.0.0 # handoff:image web\n"
                                     "dbPassword: decoy-value\n"
                                     f"<<: {{dbPassword: {PASSWORD}}}\n")
    files["chart/templates/creds.yaml"] = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-db\n"
                                           "stringData:\n  DATABASE_URL: \"postgres://web:{{ .Values.dbPassword }}"
                                           "@db:5432/app\"\n")
    url = git_server.create_repo("merged-values", files)
    result = propose_on(git_server, url, "registry.example/web:1.1.0", on_invalid="comment")
    assert result.operation == "created", result.message
    texts = {name: show(git_server, "merged-values", "handoff/dev/web", f".handoff/proposals/dev-web.{name}")
             for name in ("md", "json")}
    texts["result body"] = result.body
    texts["result message"] = result.message
    found = leaks(texts, [PASSWORD])
    assert found == [], ("a password Helm reads through a merge key written after `dbPassword: decoy-value` "
                         "(go-yaml v2: the later merge wins) and composes into a Secret shows in the PR body's "
                         f"file diff: {sorted({(w, f) for w, _, f in found})}")
