"""atk13n: with ``--engine kubeconform`` a CRD's ``openAPIV3Schema`` ``$ref`` to ``http://127.0.0.1:…`` is fetched
wherever the child fence cannot be made: atk13m F1 was fixed for the built-in engine only.

Attack. The F1 fix is a refusing retriever in ``handoff/validate/builtin.py`` ``compile_schema``. The
kubeconform engine (``handoff/validate/kubeconform.py`` ``KubeconformEngine.validate``) writes each CRD schema
of the render, ``$ref`` and all, into a catalog (``crds.write_catalog``) and hands it to kubeconform, which
resolves ``$ref`` itself. Fenced, the child has no network; but ``auto`` runs children unfenced where user
namespaces are refused (Ubuntu 24.04's AppArmor, RuntimeDefault seccomp: most CI containers — docs/SECURITY.md
"Where the fence cannot be made"), and there the only network guard is ``sandboxed()``'s closed
``HTTP_PROXY``: Go's ``ProxyFromEnvironment`` never proxies ``localhost``/loopback, so a loopback URL is
fetched directly. ``HANDOFF_CHILD_ISOLATION=off`` stands for that fallback here (as in atk13l). No scan of a
CRD schema's ``$ref`` runs before kubeconform (``render/remote.py`` ``refuse_schema_refs`` is for Helm's
``values.schema.json``).

Observed: the listener on 127.0.0.1 records ``GET /x.json`` and its answer becomes the Widget's schema
(``spec: got object, want boolean``) — SSRF from CI to any loopback service (a local registry, a Docker or
metadata proxy, a sidecar's admin port), its answer reflected in findings. Fenced (``auto`` here), nothing is
fetched. A ``file://`` ref was not read in this run.

Responsible: ``handoff/validate/kubeconform.py`` (CRD schemas from the render passed through unchecked) with
``handoff/validate/crds.py`` ``write_catalog``; ``handoff/toolrun.py`` ``sandboxed`` (a proxy is no guard for
loopback).

What should hold: a schema from repository content resolves nothing outside itself whichever engine reads
it: refuse a non-local ``$ref``/``$schema``/``$id`` in a CRD schema (one ``schema/unusable`` finding) before
it is written to kubeconform's catalog, fenced or not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.tools import require_tool
from tests.security.test_atk13m_crd_schema_ref import WIDGET, _crd
from tests.security.test_render_network import Listener, listener  # noqa: F401 (fixture)

pytestmark = [pytest.mark.tools, pytest.mark.xfail(strict=True, reason="open (issue 13, atk13n 5: an unfenced kubeconform fetches a CRD schema $ref)")]


def test_kubeconform_unfenced_does_not_fetch_a_crd_schema_ref(tmp_path: Path,
                                                             listener: Listener) -> None:  # noqa: F811
    require_tool("kubeconform")
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "crd.yaml").write_text(_crd(f"{listener.url}/x.json"), encoding="utf-8")
    (repo / "app" / "widget.yaml").write_text(WIDGET, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "TMPDIR": str(tmp_path),
           "HANDOFF_CHILD_ISOLATION": "off"}
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--engine", "kubeconform",
                           "--config-repo", str(repo), str(repo / "app")], capture_output=True, text=True,
                          timeout=120, check=False, cwd=repo, env=env)
    assert listener.requests == [], (
        f"kubeconform (unfenced, as auto runs it where namespaces are refused) fetched {listener.requests} "
        f"through a CRD schema $ref: {[ln for ln in done.stdout.splitlines() if 'Widget' in ln][:2]}")
