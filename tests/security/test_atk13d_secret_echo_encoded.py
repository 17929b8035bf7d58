"""atk13d: a Secret value a template also writes, base64/hex-encoded, into a ConfigMap reaches propose's
error (the CI log).

The chart stamps the password (with the image) into a Secret's ``stringData`` (masked) and the same text,
through helm's ``b64enc`` and ``printf "%x"``, into an ordinary ConfigMap. The bump then changes a field
that is not an image field, so ``propose`` refuses: its one-line error quotes the before and after values
of the ConfigMap field, and those are the secret's base64 and hex forms. Masking knows the raw and escaped
forms only; issue 13 asks for the raw value and its base64, base32 and hex forms to be found nowhere.
"""

from __future__ import annotations

import base64

import pytest

from handoff.errors import HandoffError
from handoff.manifests.model import RenderedObject
from handoff.workflows.propose import rendered_diff
from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool
from tests.propose.helpers import propose_on, show
from tests.security.leaks import leaks
from tests.security.test_secret_values import PASSWORD, chart_files, stamped

ECHO = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-echo
data:
  mode: prod
  b64: {{ printf "%s@%s" .Values.password .Values.image | b64enc | quote }}
  hex: {{ printf "%x" (printf "%s@%s" .Values.password .Values.image) | quote }}
"""


@pytest.mark.tools
def test_propose_body_carries_no_encoded_form_of_a_secret_value_echoed_into_a_configmap(
        git_server: GitServer) -> None:
    require_tool("helm")
    files = chart_files()
    files["chart/templates/echo.yaml"] = ECHO
    url = git_server.create_repo("secret-echo", files)
    try:
        result = propose_on(git_server, url, "registry.example/web:1.1.0", on_invalid="comment")
    except HandoffError as e:  # the refusal is right; what it prints must not carry the value
        texts = {"error": str(e)}
    else:
        texts = {name: show(git_server, "secret-echo", "handoff/dev/web", f".handoff/proposals/dev-web.{name}")
                 for name in ("md", "json")}
        texts["result body"] = result.body
        texts["result message"] = result.message
    assert leaks(texts, [PASSWORD, stamped("1.0.0"), stamped("1.1.0")]) == []


def test_rendered_diff_carries_no_encoded_form_of_a_secret_value_echoed_into_a_configmap() -> None:
    """The PR body's rendered diff (``rendered_diff``) masks the ConfigMap's raw copy of the Secret value but
    prints its base64 copy as it is."""
    def objects(tag: str) -> list[RenderedObject]:
        value = stamped(tag)
        return [RenderedObject({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web-credentials"},
                                "stringData": {"password": value}}, "secret.yaml", 1),
                RenderedObject({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-echo"},
                                "data": {"raw": value, "b64": base64.b64encode(value.encode()).decode(),
                                         "hex": value.encode().hex()}}, "echo.yaml", 1)]
    diff = rendered_diff(objects("1.0.0"), objects("1.1.0"), "dev")
    assert "web-echo" in diff
    assert leaks({"rendered diff": diff}, [PASSWORD, stamped("1.0.0"), stamped("1.1.0")]) == []
