"""atk13g: a values-file value that a chart composes *into* a Secret's value (a DSN, a URL with
credentials, a ``key=value`` line) shows in clear beside the image line in the proposal's
file diff.

``propose`` masks the values-file diff with ``secret_strings`` of the render (``handoff/workflows/propose.py``
``values = {key: scrub(text, secrets) …}``): the *whole* value of each Secret key (and its pieces, its encoded
forms). A chart that builds ``stringData.DATABASE_URL: postgres://web:{{ .Values.dbPassword }}@db:5432/app``
has a Secret value of which the values file holds only a part, so ``dbPassword: <password>`` two lines below
``image:`` is in the bump's diff as written. The rendered diff masks the DSN; the file diff gives the
password away. This is the common way charts take a password (Bitnami's and most DSN-style charts). What
should hold: no values-file scalar that reaches a Secret's value (wholly or as part of it) is shown in the PR
body, md, json or the result.
"""

from __future__ import annotations

import pytest

from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool
from tests.propose.helpers import propose_on, show
from tests.security.leaks import leaks
from tests.security.test_secret_values import chart_files

PASSWORD = "Pg-atk13g-db-passw0rd-7f3c"
TEMPLATES = {"dsn": "postgres://web:{{ .Values.dbPassword }}@db:5432/app",
             "env line": "PGPASSWORD={{ .Values.dbPassword }}"}
# held (not a case here): "Bearer {{ .Values.dbPassword }}", whose password is a whitespace-separated piece


@pytest.mark.tools
@pytest.mark.parametrize("form", sorted(TEMPLATES))
def test_a_values_password_composed_into_a_secret_shows_nowhere_in_the_proposal(git_server: GitServer,
                                                                                 form: str) -> None:
    require_tool("helm")
    files = chart_files()
    files["envs/dev/values.yaml"] = ("image: registry.example/web:1.0.0 # handoff:image web\n"
                                     f"dbPassword: {PASSWORD}\n")
    files["chart/templates/creds.yaml"] = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-db\n"
                                           f"stringData:\n  DATABASE_URL: {TEMPLATES[form]!r}\n".replace("'", '"'))
    repo = f"composed-{form.replace(' ', '-')}"
    url = git_server.create_repo(repo, files)
    result = propose_on(git_server, url, "registry.example/web:1.1.0", on_invalid="comment")
    assert result.operation == "created", result.message
    texts = {name: show(git_server, repo, "handoff/dev/web", f".handoff/proposals/dev-web.{name}")
             for name in ("md", "json")}
    texts["result body"] = result.body
    texts["result message"] = result.message
    assert "<secret sha256:" in texts["md"]  # the Secret is rendered, its (composed) value masked there
    found = leaks(texts, [PASSWORD])
    assert found == [], (f"a password the chart composes into a Secret value ({form}) shows in the PR body's "
                         f"file diff: {sorted({(w, f) for w, _, f in found})}")
