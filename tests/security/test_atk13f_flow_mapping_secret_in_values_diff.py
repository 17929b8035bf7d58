"""atk13f: a Secret value written as a multi-line plain scalar inside a YAML *flow* mapping or sequence,
beside the image line of a values file, shows its last piece in clear in the proposal's file diff.

atk13e's fix (``handoff/manifests/sensitive.py`` ``_Pieces``) masks the pieces a folded or multi-line
plain scalar puts on lines of its own, matching whitespace-separated tokens against the value's words.
In flow syntax the indicator after the last word (``,``, ``}``, ``]``) is part of the same token
(``second-half-kept-secret,``), so that piece never matches and stays in the body. What should hold: no
piece of the Secret's value (each source line of it) is in the pushed body or the result.
"""

from __future__ import annotations

import pytest

from handoff.manifests.sensitive import scrub
from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool
from tests.propose.helpers import propose_on, show
from tests.security.leaks import leaks
from tests.security.test_secret_values import chart_files

HEAD, TAIL = "Tr0ub4dor&3-first-half", "second-half-kept-secret"
FORMS = {"flow mapping": f"creds: {{password: {HEAD}\n  {TAIL}, user: web}}\n",
         "flow sequence": f"creds: {{password: [{HEAD}\n  {TAIL}]}}\n"}
TEMPLATES = {"flow mapping": "{{ .Values.creds.password | quote }}",
             "flow sequence": "{{ index .Values.creds.password 0 | quote }}"}


@pytest.mark.tools
@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_flow_style_secret_value_beside_the_image_line_shows_in_no_piece_of_the_body(
        git_server: GitServer, form: str) -> None:
    require_tool("helm")
    files = chart_files()
    files["envs/dev/values.yaml"] = "image: registry.example/web:1.0.0 # handoff:image web\n" + FORMS[form]
    files["chart/templates/creds.yaml"] = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-creds\n"
                                           f"stringData:\n  password: {TEMPLATES[form]}\n")
    repo = f"flow-{form.replace(' ', '-')}"
    url = git_server.create_repo(repo, files)
    result = propose_on(git_server, url, "registry.example/web:1.1.0", on_invalid="comment")
    assert result.operation == "created", result.message
    texts = {name: show(git_server, repo, "handoff/dev/web", f".handoff/proposals/dev-web.{name}")
             for name in ("md", "json")}
    texts["result body"] = result.body
    texts["result message"] = result.message
    assert "<secret sha256:" in texts["md"]  # the Secret is rendered, its value masked in the rendered diff
    found = leaks(texts, [f"{HEAD} {TAIL}", HEAD, TAIL])
    assert found == [], (f"a piece of a {form} Secret value shows in the PR body's file diff: "
                         f"{sorted({(w, f) for w, _, f in found})}")


def test_the_last_piece_of_a_flow_style_value_is_masked_before_its_indicator() -> None:
    shown = "<secret sha256:0123abcd>"
    diff = f" creds: {{password: {HEAD}\n   {TAIL}, user: web}}\n"
    assert scrub(diff, {f"{HEAD} {TAIL}": shown}) == f" creds: {{password: {shown}\n   {shown}, user: web}}\n"
