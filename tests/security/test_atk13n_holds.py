"""atk13n: variants of the atk13m fixes that held (passing checks). Findings are in the other
``test_atk13n_*.py`` files; see ATK13N_REPORT.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from handoff import templates
from handoff.validate.builtin import UnusableSchema, _compiled_or_unusable
from tests.harness.tools import require_tool
from tests.security.test_atk13m_crd_schema_ref import WIDGET, _crd
from tests.security.test_render_network import Listener, listener  # noqa: F401 (fixture)

pytestmark = pytest.mark.tools

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


# -- F1: every way a schema may name something outside itself is refused by the retriever -----------------

def _outside_refs(outside: Path, url: str) -> dict[str, dict[str, Any]]:
    return {
        "relative $ref, no $id": {"properties": {"spec": {"$ref": "other.json"}}},
        "absolute path $ref": {"properties": {"spec": {"$ref": str(outside)}}},
        "$dynamicRef file": {"properties": {"spec": {"$dynamicRef": f"file://{outside}#x"}}},
        "$dynamicRef http": {"properties": {"spec": {"$dynamicRef": f"{url}/dyn.json#x"}}},
        "$schema file": {"$schema": f"file://{outside}"},
        "$schema http": {"$schema": f"{url}/meta.json"},
        "draft-04 id base": {"$schema": "http://json-schema.org/draft-04/schema#", "id": f"{url}/",
                             "properties": {"spec": {"$ref": "x.json"}}},
        "$id base": {"$id": f"{url}/base/", "properties": {"spec": {"$ref": "y.json"}}},
        "nested $id": {"properties": {"spec": {"$id": f"{url}/n/", "properties": {"a": {"$ref": "z.json"}}}}},
        "urn": {"properties": {"spec": {"$ref": "urn:example:x"}}},
    }


def test_every_outside_reference_of_a_schema_is_unusable_and_nothing_is_fetched(
        tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    outside = tmp_path / "creds.json"
    outside.write_text(json.dumps({"token": "atk13n-should-never-be-read"}), encoding="utf-8")
    for name, schema in _outside_refs(outside, listener.url).items():
        compiled = _compiled_or_unusable(schema)
        assert isinstance(compiled, UnusableSchema), name
        assert "atk13n-should-never-be-read" not in compiled.why, name
    assert listener.requests == []


def test_local_self_references_compile_and_validate_promptly() -> None:
    """A self-cycle (``allOf: [$ref: a]`` on the same instance) and the meta-schema itself: no crash, no hang."""
    cyclic = {"$defs": {"a": {"allOf": [{"$ref": "#/$defs/a"}]}}, "properties": {"spec": {"$ref": "#/$defs/a"}}}
    meta = {"properties": {"spec": {"$ref": "https://json-schema.org/draft/2020-12/schema"}}}
    for schema in (cyclic, meta):
        compiled = _compiled_or_unusable(schema)
        assert not isinstance(compiled, UnusableSchema)
        start = time.monotonic()
        compiled.is_valid({"spec": {}})
        list(compiled.iter_errors({"spec": 1}))
        assert time.monotonic() - start < 2


def test_a_backtracking_pattern_is_bounded() -> None:
    """``pattern`` with a backreference (fancy-regex backtracking): bounded by its backtrack limit."""
    compiled = _compiled_or_unusable({"properties": {"spec": {"type": "object", "additionalProperties": {
        "type": "string", "pattern": "^(a|a)*\\1$"}}}})
    assert not isinstance(compiled, UnusableSchema)
    instance = {"spec": {f"k{i}": "a" * 1000 + "!" for i in range(100)}}
    start = time.monotonic()
    compiled.is_valid(instance)
    list(compiled.iter_errors(instance))
    assert time.monotonic() - start < 10


def test_a_crd_catalog_file_ref_is_not_fetched(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    catalog = tmp_path / "catalog" / "example.com"
    catalog.mkdir(parents=True)
    (catalog / "widget_v1.json").write_text(json.dumps(
        {"type": "object", "properties": {"spec": {"$ref": f"{listener.url}/cat.json"}}}), encoding="utf-8")
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "widget.yaml").write_text(WIDGET, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), str(repo / "app"),
                           "--crd-catalog", str(tmp_path / "catalog")], capture_output=True, text=True, timeout=120,
                          check=False, cwd=repo, env=ENV)
    assert listener.requests == []
    assert "schema/unusable" in done.stdout, done.stdout[-400:]


def test_crd_ref_refused_with_kubeconform_when_fenced(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    """Fenced (here, ``auto``), kubeconform fetches nothing (unfenced it does: test_atk13n_kubeconform_…)."""
    require_tool("kubeconform")
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "crd.yaml").write_text(_crd(f"{listener.url}/x.json"), encoding="utf-8")
    (repo / "app" / "widget.yaml").write_text(WIDGET, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = {**ENV, "HANDOFF_CHILD_ISOLATION": "require"}
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--engine", "kubeconform", "--config-repo",
                           str(repo), str(repo / "app")], capture_output=True, text=True, timeout=120, check=False,
                          cwd=repo, env=env)
    if "HANDOFF_CHILD_ISOLATION=require" in done.stderr:
        pytest.skip("no fence on this machine")
    assert listener.requests == []


# -- F5: other link cycles in a chart or tree finish promptly ---------------------------------------------

LINKS = {
    "charts/a,b -> ../charts": ("helm", [("charts/a", "../charts"), ("charts/b", "../charts")]),
    "templates/a,b -> ..": ("helm", [("templates/a", ".."), ("templates/b", "..")]),
    "files/a,b -> ..": ("helm", [("files/a", ".."), ("files/b", "..")]),
    "subchart x,y -> ../..": ("helm", [("charts/s/x", "../.."), ("charts/s/y", "../..")]),
    "kustomize a,b -> .": ("kustomize", [("a", "."), ("b", ".")]),
    "plain a,b -> .": ("plain", [("a", "."), ("b", ".")]),
}


@pytest.mark.parametrize("variant", sorted(LINKS))
def test_link_cycles_finish_promptly(tmp_path: Path, variant: str) -> None:
    require_tool("helm")
    kind, links = LINKS[variant]
    repo = tmp_path / "repo"
    src = repo / "src"
    src.mkdir(parents=True)
    (repo / ".handoff.yaml").write_text(f"environments:\n  dev: {{render: {{type: {kind}, path: src}}}}\n",
                                        encoding="utf-8")
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n"
    if kind == "helm":
        (src / "templates").mkdir()
        (src / "charts" / "s" / "templates").mkdir(parents=True)
        (src / "files").mkdir()
        (src / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n", encoding="utf-8")
        (src / "charts" / "s" / "Chart.yaml").write_text("apiVersion: v2\nname: s\nversion: 0.1.0\n", encoding="utf-8")
        (src / "templates" / "cm.yaml").write_text(cm, encoding="utf-8")
    else:
        (src / "cm.yaml").write_text(cm, encoding="utf-8")
        if kind == "kustomize":
            (src / "kustomization.yaml").write_text("resources: [cm.yaml]\n", encoding="utf-8")
    for where, target in links:
        (src / where).symlink_to(target)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev"],
                          cwd=repo, env=ENV, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode in (0, 1), done.stderr[-300:]
    assert time.monotonic() - start < 30


# -- F7: the template cap holds for huge values and many placeholders ------------------------------------

def test_the_body_cap_holds_for_many_placeholders_of_a_big_value() -> None:
    code = ("from pathlib import Path\nfrom handoff import templates\n"
            "out = templates.render('{diff}' * 100000, {'diff': 'x' * 1_000_000}, limit=templates.MAX_BODY_CHARS,"
            " note=templates.BODY_CUT_NOTE)\nassert len(out) <= templates.MAX_BODY_CHARS, len(out)\n"
            "print([l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmHWM')][0])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=ENV,
                          check=True)
    assert int(done.stdout.split()[1]) // 1024 < 100, done.stdout
    assert len(templates.render("{title}" * 1000, {"title": "y" * 1000}, limit=templates.MAX_TITLE_CHARS)) <= 256
