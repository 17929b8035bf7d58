"""atk13e: a Secret value that ends in a line break (what ``kubectl create secret --from-file`` or
``.Files.Get`` of a file gives) is masked only with its line break.

The same passphrase, trimmed (``{{ .Values.password | trim }}``, or an app's env var), in an ordinary
ConfigMap shows in the PR body's rendered diff in clear and base64. ``_forms`` in
``handoff/manifests/sensitive.py`` adds a multi-line value's lines only when a line has no space in it
(key material), so a passphrase with spaces plus its trailing newline has no form without the newline:
its copy inside a DSN shows raw, its base64 copy shows as it is. (Where the copy ends a line, the
diff's own line break completes the known form and the mask swallows it, joining two diff lines.)
"""

from __future__ import annotations

import base64

from handoff.manifests.model import RenderedObject
from handoff.manifests.sensitive import scrub
from handoff.workflows.propose import rendered_diff
from tests.security.leaks import leaks

PASSPHRASE = "correct horse battery staple 7731"


def _objects(tag: str, *, encoded: bool) -> list[RenderedObject]:
    stored = PASSPHRASE + "\n"  # as a file holding it, with its final line break
    secret_field = ({"data": {"password": base64.b64encode(stored.encode()).decode()}} if encoded
                    else {"stringData": {"password": stored}})
    return [RenderedObject({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web-credentials"},
                            **secret_field}, "secret.yaml", 1),
            RenderedObject({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-echo"},
                            "data": {"tag": tag, "login": PASSPHRASE,
                                     "dsn": f"postgres://app:{PASSPHRASE}@db/app",
                                     "b64": base64.b64encode(PASSPHRASE.encode()).decode()}}, "echo.yaml", 1)]


def test_rendered_diff_masks_a_trimmed_copy_of_a_string_data_value_ending_in_a_newline() -> None:
    diff = rendered_diff(_objects("1.0.0", encoded=False), _objects("1.1.0", encoded=False), "dev")
    assert "web-echo" in diff
    assert leaks({"rendered diff": diff}, [PASSPHRASE]) == []


def test_rendered_diff_masks_a_trimmed_copy_of_a_data_value_ending_in_a_newline() -> None:
    diff = rendered_diff(_objects("1.0.0", encoded=True), _objects("1.1.0", encoded=True), "dev")
    assert "web-echo" in diff
    assert leaks({"rendered diff": diff}, [PASSPHRASE]) == []


def test_the_mask_of_a_value_ending_in_a_newline_keeps_the_diff_line_break() -> None:
    text = f"-  login: {PASSPHRASE}\n+  tag: 1.1.0\n"
    scrubbed = scrub(text, {PASSPHRASE + "\n": "<secret sha256:0123abcd>"})
    assert scrubbed == "-  login: <secret sha256:0123abcd>\n+  tag: 1.1.0\n"
