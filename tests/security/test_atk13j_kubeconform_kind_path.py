"""atk13j: kubeconform gets the network namespace only (``fenced(..., readable=None)``), so it sees the whole
filesystem, and a rendered object's ``kind`` is put into its schema path unchecked.

Attack. ``KubeconformEngine.validate`` (``handoff/validate/kubeconform.py``) runs kubeconform with
``-schema-location {crd_dir}/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json``. kubeconform
lowercases the kind and substitutes it verbatim, ``/`` and ``..`` included, so a manifest of
``kind: ../../../../<path>/widget`` makes kubeconform load ``/<path>/widget_v1.json`` from anywhere on the
machine as the object's schema (another source's CRD catalog, any ``*_<version>.json`` or
``*-<group>-<version>.json`` file) and its error message quotes the schema's ``enum``/``const`` values, which
handoff turns into a finding printed in ``validate`` output (and PR comments).

Observed (real kubeconform, ``handoff validate --engine kubeconform`` path): the value held in a JSON file
outside the repo appears in the finding's message.

Responsible: ``handoff/validate/kubeconform.py`` (``KubeconformEngine.validate``: ``fenced(argv, cwd=None,
readable=None, offline=True)`` gives no filesystem view; ``kind``/``apiVersion`` go into the schema template
unchecked). What should hold: kubeconform sees only its schema dirs (a mount view of ``schema_dir``,
``crd_dir``, the catalogs and its inputs), and a kind or apiVersion that is not a name (holding ``/``, ``..``)
is a finding of its own, never part of a path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.render import render_path
from handoff.validate.engine import SchemaOptions
from handoff.validate.kubeconform import KubeconformEngine
from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools

SECRET = "atk13j-outside-schema-value-7f3a9c"
CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  names: {kind: Gadget, plural: gadgets, singular: gadget, listKind: GadgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object}
"""


def test_a_kind_holding_dot_dot_reads_no_schema_outside_the_catalogs(tmp_path: Path) -> None:
    require_tool("kubeconform")
    other = tmp_path / "other-source" / "crds" / "example.com"
    other.mkdir(parents=True)
    (other / "widget_v1.json").write_text(
        '{"type": "object", "properties": {"spec": {"enum": ["' + SECRET + '"]}}}', encoding="utf-8")
    repo = tmp_path / "repo"
    repo.mkdir()
    up = "/".join([".."] * 20)
    # a CRD of the group in the render makes kubeconform's catalog hold the directory ``example.com`` the
    # ``..`` parts climb out of (the kernel resolves ``a/../b`` only when ``a`` exists)
    (repo / "w.yaml").write_text(CRD + f"---\napiVersion: example.com/v1\nkind: {up}{other}/widget\nmetadata:\n"
                                 "  name: w\nspec: guess\n", encoding="utf-8")
    rendered = render_path(repo / "w.yaml", repo=repo, kind="plain")
    report = KubeconformEngine().validate(rendered.objects, SchemaOptions(ignore_missing_schemas=True))
    said = repr(report)
    assert SECRET not in said, ("kubeconform loaded a JSON file outside the repo and its catalogs as the schema "
                                "of a kind spelled with '..', and the finding quotes its enum value: "
                                + next(f.message for f in report.findings if SECRET in f.message))
