"""atk13d: a Secret's ``data`` value wrapped as the ``base64`` tool writes it (76 columns) is not decoded.

``sensitive._forms`` decodes a ``data`` value with ``base64.b64decode(value, validate=True)``, which refuses
the line breaks that ``base64 file`` (and ``.Files.Get "key.b64"``) leave in the text. The API server
decodes it all the same (Go's base64 ignores ``\\r``/``\\n``), so the Secret holds the password, but handoff
never learns the decoded text: a ConfigMap or env var carrying that password in the clear is shown as it
is in the rendered diff of the PR body. What should hold: a Secret value, however its base64 is laid out,
appears nowhere in the rendered diff.
"""

from __future__ import annotations

import base64

from handoff.manifests.model import RenderedObject
from handoff.workflows.propose import rendered_diff
from tests.security.leaks import leaks

PASSWORD = "atk13d-wrapped-" + "k" * 60  # long enough that its base64 wraps


def _wrapped(text: str) -> str:
    encoded = base64.b64encode(text.encode()).decode()
    return "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76)) + "\n"


def _objects(tag: str) -> list[RenderedObject]:
    value = f"{PASSWORD}@{tag}"
    return [RenderedObject({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web-credentials"},
                            "data": {"password": _wrapped(value)}}, "secret.yaml", 1),
            RenderedObject({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-settings"},
                            "data": {"password": value}}, "configmap.yaml", 1)]


def test_rendered_diff_masks_the_decoded_value_of_a_wrapped_base64_secret() -> None:
    diff = rendered_diff(_objects("1.0.0"), _objects("1.1.0"), "dev")
    assert "web-settings" in diff
    assert leaks({"rendered diff": diff}, [f"{PASSWORD}@1.0.0", f"{PASSWORD}@1.1.0"]) == []
