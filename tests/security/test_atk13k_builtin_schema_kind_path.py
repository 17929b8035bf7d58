"""atk13k: the builtin schema engine (handoff's own process, outside any fence) builds a schema file path from a
rendered object's ``kind`` and ``apiVersion`` unchecked, and opens it.

Attack. ``KubernetesSchemas.schema_for`` (``handoff/validate/schemas.py``) reads
``self.directory / f"{kind_file_name(api_version, kind)}.json"``; ``kind_file_name`` only lower-cases, so a
manifest (plain, or printed by any chart or kustomization) of ``kind: ../../../…/<dir>/name`` with
``apiVersion: v1`` makes handoff read ``/<dir>/name-v1.json`` anywhere on the machine: no ``contained`` check
(``load_catalog_schema`` has one, this path does not), no regular-file check, no size cap.
``_same_group_version_kind`` accepts a file with no ``x-kubernetes-group-version-kind``, so any such JSON becomes
the object's schema and its ``enum`` values are quoted in the finding. This is the atk13j kubeconform
``kind`` bug, fixed there by fencing kubeconform, still open in the default ``auto``/``builtin`` engine.

Observed (``handoff validate app``, default engine, no tools needed):
- a JSON file outside the repo (another source's checkout, an operator file) is used as the schema and its
  value ``s3cr3t-from-outside`` is printed in the finding (and would reach PR comments / reconciler status);
- a FIFO named ``*-v1.json`` outside the repo hangs ``validate`` forever (a link in the repo to ``/dev/zero``
  named ``x-v1.json`` would be read without bound: OOM).

Responsible: ``handoff/validate/schemas.py`` (``kind_file_name``, ``KubernetesSchemas.schema_for``), called by
``handoff/validate/builtin.py`` (``kubernetes_validator``).

What should hold: a ``kind`` or ``apiVersion`` that is not a name (``/``, ``..``, NUL) never becomes part of a
path; the schema read is confined to the schema directory, regular files only, capped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from handoff.manifests.plain import load_tree
from handoff.validate import validate_objects

SECRET = "s3cr3t-from-outside-atk13k"
UP = "../" * 40


def _repo(tmp_path: Path, target: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "cm.yaml").write_text(
        f"apiVersion: v1\nkind: {UP}{str(target).lstrip('/')}\nmetadata: {{name: x}}\ndata: {{k: nope}}\n",
        encoding="utf-8")
    return repo


def test_a_json_file_outside_the_repo_named_by_kind_is_used_as_schema_and_quoted(tmp_path: Path) -> None:
    outside = tmp_path / "other-source"
    outside.mkdir()
    (outside / "leak-v1.json").write_text(
        '{"type":"object","properties":{"data":{"type":"object","properties":{"k":{"enum":["' + SECRET + '"]}}}}}',
        encoding="utf-8")
    repo = _repo(tmp_path, outside / "leak")
    rendered = load_tree(repo / "app", repo)
    report = validate_objects(rendered.objects, engine="builtin")
    shown = repr(report)
    assert SECRET not in shown, (
        "the builtin engine read a JSON file outside the repo, named by the object's kind, as its schema and "
        f"quoted its enum value in a finding: {shown[:600]}")


def test_a_fifo_outside_the_repo_named_by_kind_hangs_validate(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.mkfifo(outside / "fifo-v1.json")
    repo = _repo(tmp_path, outside / "fifo")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    try:
        subprocess.run([sys.executable, "-m", "handoff", "validate", "app", "--engine", "builtin"], cwd=repo,
                       env=env, capture_output=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        raise AssertionError("handoff validate hung for 30 s opening a FIFO outside the repo named by an "
                             "object's kind (KubernetesSchemas.schema_for)") from None
