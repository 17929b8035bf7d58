"""atk13n: the new ``schema/unusable`` finding (atk13m F1's fix) cuts its message *before* masking, so most of a
Secret's value that the message quotes survives: the whole value would be masked, its 27-character prefix is not.

Attack. A render holds a Secret (``stringData.token``, 48 characters) and a CRD whose ``openAPIV3Schema``
carries the same text where jsonschema_rs quotes it when compiling fails: a ``$ref`` (``Resource '<token>' is
not present in a registry…``) or a ``type`` (``"<token>" is not valid under any of the schemas…``) — a chart
templating one value into both, or any repo content placing it there. ``_compiled_or_unusable``
(``handoff/validate/builtin.py``) keeps ``excerpt(first_line)``: 39 characters and ``…``. The finding is then
masked by ``KnownValues`` (``handoff/validate/__init__.py`` ``masked``), which matches whole values (and
pieces of 16+ characters only between word separators): the cut prefix is neither.

Observed (``handoff validate``, text and json, the 48-character value): with ``$ref``: ``cannot be used:
"Resource 'Zq8Xk3LmN0pR7sT2vW5yB9cD4fG6…``, 28 of its characters; with ``type``: ``"\\"Zq8Xk3LmN0pR7sT2vW5y
B9cD4fG6hJ1kAa7B…``, 36 of them. A value short enough to fit the excerpt whole is masked (``"\\"<secret
sha256:…>\\" i…``). The same finding is the reconciler's status ConfigMap and Event text (``plan_source``).

Responsible: ``handoff/validate/builtin.py`` ``_compiled_or_unusable`` (``excerpt`` of jsonschema_rs's text,
which quotes schema content, before any masking), shown by ``check_object``.

What should hold: no output holds a sensitive value or a recognisable part of one: mask before cutting (or
never quote the schema's text: say which keyword failed, as ``_without_instance`` does for instances).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TOKEN = "Zq8Xk3LmN0pR7sT2vW5yB9cD4fG6hJ1kAa7Bb8Cc9Dd0Ee1F"  # 48 characters
SCHEMAS = {"ref": f'$ref: "{TOKEN}"', "type": f"type: {TOKEN}"}


def _repo(root: Path, variant: str) -> Path:
    app = root / "app"
    app.mkdir(parents=True)
    (app / "secret.yaml").write_text(
        f"apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData:\n  token: {TOKEN}\n", encoding="utf-8")
    (app / "crd.yaml").write_text(f"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: widgets.example.com}}
spec:
  group: example.com
  names: {{kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              {SCHEMAS[variant]}
""", encoding="utf-8")
    (app / "widget.yaml").write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {a: 1}\n",
                                     encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


@pytest.mark.parametrize("output", ["text", "json"])
@pytest.mark.parametrize("variant", sorted(SCHEMAS))
def test_an_unusable_schema_finding_shows_no_part_of_a_secret(tmp_path: Path, variant: str, output: str) -> None:
    repo = _repo(tmp_path / "repo", variant)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo),
                           str(repo / "app"), "--output", output], capture_output=True, text=True, timeout=120,
                          check=False, cwd=repo, env=env)
    text = done.stdout + done.stderr
    assert "unusable" in text, text[-500:]
    shown = [TOKEN[:n] for n in (48, 24, 16) if TOKEN[:n] in text]
    assert not shown, (f"the schema/unusable finding shows {len(shown[0])} characters of the Secret's value "
                       f"(cut by excerpt before masking): {[ln for ln in text.splitlines() if TOKEN[:16] in ln][:1]}")
