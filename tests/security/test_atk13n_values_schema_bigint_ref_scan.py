"""atk13n: a number of more than 4,300 digits anywhere in a chart's ``values.schema.json`` turns off handoff's
``$ref`` scan of it; Helm parses it fine and fetches or reads what the schema names.

Attack. ``handoff/render/remote.py`` ``refuse_schema_refs`` parses the schema with Python's ``json.loads`` and,
on ``ValueError``, returns ("not JSON: Helm refuses it itself, reading nothing else"). Python (3.11+) raises
``ValueError: Exceeds the limit (4300 digits) for integer string conversion`` for a long integer literal,
while Go's ``encoding/json`` (Helm's santhosh-tekuri/jsonschema, ``UseNumber``) accepts it. So
``{"x-pad": 999…(5,000 digits), "properties": {"x": {"$ref": "<anything>"}}}`` passes the scan and reaches
Helm with its ``$ref`` intact. (The same holds for an F1-style variant anywhere the scan is the only guard.)

Observed: ``refuse_schema_refs`` accepts the text (the same schema without the padding is refused with
``schema reference … is refused``). Unfenced (``HANDOFF_CHILD_ISOLATION=off``, what ``auto`` falls back to
where user namespaces are refused — most CI containers and the reconciler's own Pod): ``handoff validate``
renders, Helm fetches ``http://127.0.0.1:<port>/s.json`` (Go never proxies loopback, so the closed proxy does
not stop it), and with ``$ref: file:///…/creds.json#/schema`` Helm reads a file outside the repo and its
content is quoted in handoff's error (``at '/a': value must be '<token>'``). Fenced, only the fence stops it
(``dial tcp …: network is unreachable``).

Responsible: ``handoff/render/remote.py`` ``refuse_schema_refs`` (a parse failure of Python's is taken for
Helm's; ``ValueError`` covers the int-digit limit).

What should hold: the scan sees every schema Helm can parse: a parse Python refuses but Go may accept (long
integers; parse with ``parse_int=`` / ``parse_float=`` keeping text) is scanned or refused, never waved through.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from handoff.errors import RenderError
from handoff.render.remote import refuse_schema_refs
from tests.harness.tools import require_tool
from tests.security.test_render_network import Listener, listener  # noqa: F401 (fixture)

pytestmark = pytest.mark.tools

PAD = "9" * 5000
SECRET = "atk13n-outside-helm-token-77aa"


def _schema(ref: str) -> str:
    return '{"x-pad": ' + PAD + ', "properties": {"x": {"$ref": "' + ref + '"}}, "allOf": [{"$ref": "' + ref + '"}]}'


def test_the_scan_refuses_a_ref_next_to_a_long_number() -> None:
    with pytest.raises(RenderError):
        refuse_schema_refs('{"properties": {"x": {"$ref": "http://127.0.0.1:1/s.json"}}}', "values.schema.json")
    with pytest.raises(RenderError):
        refuse_schema_refs(_schema("http://127.0.0.1:1/s.json"), "values.schema.json")


def _repo(root: Path, ref: str) -> Path:
    chart = root / "chart"
    (chart / "templates").mkdir(parents=True)
    (root / ".handoff.yaml").write_text("environments:\n  dev: {render: {type: helm, path: chart}}\n",
                                        encoding="utf-8")
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n", encoding="utf-8")
    (chart / "values.yaml").write_text("a: {b: 1}\n", encoding="utf-8")
    (chart / "templates" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
                                                 encoding="utf-8")
    (chart / "values.schema.json").write_text(_schema(ref), encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def _validate(repo: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "TMPDIR": str(repo.parent),
           "HANDOFF_CHILD_ISOLATION": "off"}
    return subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_helm_unfenced_fetches_nothing_through_the_padded_schema(tmp_path: Path,
                                                                 listener: Listener) -> None:  # noqa: F811
    require_tool("helm")
    done = _validate(_repo(tmp_path / "repo", f"{listener.url}/s.json"))
    assert listener.requests == [], (f"helm fetched {listener.requests} through a values.schema.json $ref the "
                                     f"scan let through: {(done.stdout + done.stderr)[-300:]}")


def test_helm_unfenced_reads_and_quotes_no_file_outside_the_repo(tmp_path: Path) -> None:
    require_tool("helm")
    outside = tmp_path / "outside" / "creds.json"
    outside.parent.mkdir()
    outside.write_text(json.dumps({"schema": {"type": "object", "properties": {"a": {"const": SECRET}}}}),
                       encoding="utf-8")
    done = _validate(_repo(tmp_path / "repo", f"file://{outside}#/schema"))
    text = done.stdout + done.stderr
    assert SECRET not in text, f"a file outside the repo, read by helm through values.schema.json, is quoted: {text[-300:]}"
