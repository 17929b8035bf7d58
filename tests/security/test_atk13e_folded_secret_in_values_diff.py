"""atk13e: a Secret's value written as a folded (``>-``) or split plain scalar next to the image line of
a values file shows, line by line, in the proposal's file diff.

propose puts the bump's file diff into the PR body and scrubs it with the rendered objects' sensitive
values (``handoff/workflows/propose.py`` ``scrub(text, secrets)``): the raw value, its escaped forms and
every *quoted* scalar that decodes to one (``handoff/manifests/sensitive.py`` ``KnownValues``). A folded
or multi-line plain scalar is neither: YAML joins its lines with a space, so no diff line holds the whole
value and each context line shows its piece in clear. What should hold: no piece of the Secret's value
(each source line of it) is in the pushed body or the result.
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
FORMS = {"folded": f"password: >-\n  {HEAD}\n  {TAIL}\n", "split plain": f"password: {HEAD}\n  {TAIL}\n"}


@pytest.mark.tools
@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_folded_secret_value_beside_the_image_line_shows_in_no_piece_of_the_body(
        git_server: GitServer, form: str) -> None:
    require_tool("helm")
    files = chart_files()
    files["envs/dev/values.yaml"] = "image: registry.example/web:1.0.0 # handoff:image web\n" + FORMS[form]
    files["envs/dev/secrets.yaml"] = "mode: prod\n"  # the password comes from values.yaml only
    repo = f"folded-{form.replace(' ', '-')}"
    url = git_server.create_repo(repo, files)
    result = propose_on(git_server, url, "registry.example/web:1.1.0", on_invalid="comment")
    assert result.operation == "created", result.message
    texts = {name: show(git_server, repo, "handoff/dev/web", f".handoff/proposals/dev-web.{name}")
             for name in ("md", "json")}
    texts["result body"] = result.body
    texts["result message"] = result.message
    assert "<secret sha256:" in texts["md"]  # the Secret is rendered, its value masked in the rendered diff
    assert leaks(texts, [f"{HEAD} {TAIL}", HEAD, TAIL]) == []


SHOWN = "<secret sha256:0123abcd>"


def test_each_line_of_a_folded_value_is_masked_and_single_ordinary_words_are_not() -> None:
    secret = "correct horse battery staple 7731"
    diff = ("-image: web:1.0.0\n+image: web:1.1.0\n password: >-\n   correct horse\n   battery\n"
            "   staple 7731\n note: the horse is correct\n")
    scrubbed = scrub(diff, {secret: SHOWN})
    assert scrubbed == ("-image: web:1.0.0\n+image: web:1.1.0\n password: >-\n"
                        f"   {SHOWN}\n   battery\n   {SHOWN}\n note: the horse is correct\n")


def test_a_long_lone_word_of_a_value_is_masked_also_on_a_diff_line() -> None:
    scrubbed = scrub(f"+password: {HEAD}\n+  {TAIL}\n", {f"{HEAD} {TAIL}": SHOWN})
    assert scrubbed == f"+password: {SHOWN}\n+  {SHOWN}\n"
