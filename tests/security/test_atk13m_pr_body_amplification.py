"""atk13m: ``.handoff.yaml``'s ``propose.body`` multiplies the proposal's diff without bound: one 40 kB config
line makes a PR body (and the ``.handoff/proposals/*.md`` file pushed to the branch) hundreds of megabytes.

Attack. ``Proposer._request`` (``handoff/workflows/propose.py``) renders ``settings.body`` (repo content: the
schema gives it no length) with ``templates.render``, substituting ``{diff}``, ``{rendered_diff}`` and
``{validation}`` at every occurrence; then ``redact`` and ``scrub`` run over the result and the forge layer
serialises it (``forge.branch_files`` writes it to the branch; GitHub/GitLab get it as JSON). Only the
rendered diff is cut (30,000 characters, ``MAX_RENDERED_DIFF_CHARS``) and the findings table (50 rows), and
each *substitution*, not the body: ``{diff}`` is the bumped file's diff, whose context lines may be as long as
the file allows (a 20 kB comment line next to the image line). Here the body is ``{diff}`` written 2,000
times (12 kB of config) and the context line 20 kB.

Observed: the body is 40.5 MB (2,000 x the diff), built in handoff's memory several times over
(render, redact, scrub, JSON) and committed to the proposal branch as ``.handoff/proposals/dev-web.md``;
20,000 repetitions (120 kB of config) make it ~400 MB. GitHub refuses bodies over 65,536 characters.

Responsible: ``handoff/workflows/propose.py`` ``_request`` (no bound on the rendered title/body), with
``handoff/templates.py`` ``render`` and ``handoff/schemas/handoff-config.schema.json`` (``propose.body`` has no
``maxLength``).

What should hold: what handoff builds from repository content is bounded: the rendered body (and title) is
capped (e.g. at the forge's 65,536 characters, truncated with a note), before it is redacted, serialised or
pushed.
"""

from __future__ import annotations

from tests.harness.git_server import GitServer
from tests.propose.helpers import propose_on, show

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
        - name: web
          # {pad}
          image: registry.example/web:1.0.0 # handoff:image web
"""

LIMIT = 1024 * 1024


def test_the_pr_body_is_bounded_whatever_the_body_template_repeats(git_server: GitServer) -> None:
    body = "{diff}" * 2000
    files = {
        ".handoff.yaml": ("environments:\n  dev:\n    render: {type: plain, path: envs/dev}\napps:\n  web:\n"
                          "    image: registry.example/web\n    targets:\n      - type: marker\n"
                          f"        path: envs/dev/deploy.yaml\npropose:\n  body: \"{body}\"\n"),
        "envs/dev/deploy.yaml": DEPLOY.format(pad="x" * 20_000),
    }
    url = git_server.create_repo("atk13m-body", files)
    result = propose_on(git_server, url, "registry.example/web:1.1.0", on_invalid="comment")
    assert result.operation == "created", result.message
    pushed = show(git_server, "atk13m-body", "handoff/dev/web", ".handoff/proposals/dev-web.md")
    assert len(result.body) <= LIMIT and len(pushed) <= LIMIT, (
        f"a {len(body)}-character propose.body made a {len(result.body)}-character PR body and pushed a "
        f"{len(pushed)}-character .handoff/proposals/dev-web.md (templates.render in Proposer._request: no bound)")
