"""atk13i: a Secret value printed with Go's ``urlquery`` (``url.QueryEscape``: a space becomes ``+``) passes
every mask.

``handoff/redact.py`` ``encoded_forms`` lists ``urllib.parse.quote(value, safe="")`` (a space is ``%20``), the
one list ``KnownValues`` masks with. A chart writing ``{{ .Values.password | urlquery }}`` into a ConfigMap
URL (the usual way to put a password in a query string) prints ``correct+horse+…``: Helm's only URL escape
function yields the ``+`` spelling, so a password holding a space is shown in the PR body's rendered diff.
What should hold: a Secret value's URL-escaped forms (``%20`` and ``+`` for a space) are masked like the raw value.
"""

from __future__ import annotations

import urllib.parse

from handoff.manifests.model import RenderedObject
from handoff.workflows.propose import rendered_diff


def _value(tag: str) -> str:
    return f"correct horse battery atk13i-{tag}"


def test_rendered_diff_masks_a_query_escaped_secret_value() -> None:
    def objects(tag: str) -> list[RenderedObject]:
        value = _value(tag)
        return [RenderedObject({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web-credentials"},
                                "stringData": {"password": value}}, "secret.yaml", 1),
                RenderedObject({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-links"},
                                "data": {"dsn": f"https://db.example/?password={urllib.parse.quote_plus(value)}"}},
                               "links.yaml", 1)]
    diff = rendered_diff(objects("1.0.0"), objects("1.1.0"), "dev")
    assert "web-links" in diff
    assert urllib.parse.quote(_value("1.0.0"), safe="") not in diff  # the control: the %20 form is masked
    shown = [f for f in (urllib.parse.quote_plus(_value(t), safe="") for t in ("1.0.0", "1.1.0")) if f in diff]
    assert shown == [], (f"the PR body's rendered diff shows the Secret value as Go's urlquery prints it (space "
                         f"as '+'): {shown}\n{diff}")
