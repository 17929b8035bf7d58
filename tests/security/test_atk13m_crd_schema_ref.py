"""atk13m: a CustomResourceDefinition in the render makes handoff's *own* process fetch URLs and read files
anywhere on the host, through the ``$ref`` of its ``openAPIV3Schema``; what it reads is quoted in the output.

Attack. The built-in schema engine (the default: ``select_engine("auto")`` is ``builtin`` whenever
kubernetes-validate is installed, in CI and in the reconciler's ``plan_source``) validates a custom resource
against the schema of a CRD found in the same render (``handoff/validate/crds.py`` ``CrdIndex``,
``strictify``) and compiles it with ``jsonschema_rs.validator_for`` (``handoff/validate/builtin.py``
``compile_schema``) with jsonschema_rs's default retriever: ``http(s)://`` refs are fetched, ``file://`` refs
opened, anywhere. Nothing refuses a ``$ref`` in a CRD schema: the ``$ref`` scan covers Helm's
``values.schema.json`` only (``render/remote.py`` ``refuse_schema_refs``), and the fence covers renderer
children, not handoff. A plain manifest tree of two files is enough:

    kind: CustomResourceDefinition …  openAPIV3Schema: {properties: {spec: {$ref: "file:///…/creds.json#/token"}}}
    kind: Widget …

Observed (``handoff validate``, default engine): the file outside the repo is read and its ``token`` string is
printed (``handoff: unexpected error: ValidationError: "<token>" is not of types "boolean", "object"``, also
written to the crash log); a ``$ref`` to ``http://127.0.0.1:<port>/…`` is fetched by handoff itself (the
listener records the GET) — SSRF from CI and from inside the cluster (an IMDSv1 credentials document is JSON:
``http://169.254.169.254/…#/SecretAccessKey`` would be quoted the same way); ``reconcile`` fetches it too, and puts the outside file's string into the Source's status ConfigMap and its
Event (readable far more widely than the file). ``$schema: http://…`` and a relative ``$ref`` under an
``$id: http://…/`` base are fetched the same way (a fix that scans ``$ref`` alone misses them).

Responsible: ``handoff/validate/builtin.py`` ``compile_schema`` (jsonschema_rs with its default retriever),
fed by ``handoff/validate/crds.py`` (``CrdIndex.get`` / ``strictify``: no check of ``$ref``); the same holds for
``--crd-catalog`` files and ``extra_crds``.

What should hold: a schema taken from repository content resolves nothing outside itself: a ``$ref``,
``$dynamicRef``, ``$recursiveRef`` or ``$schema`` that is not a local fragment is refused (one finding naming
the CRD) or compiled with a retriever that refuses every URI; handoff fetches nothing and reads nothing
outside the repo.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.harness.git_server import GitServer
from tests.reconciler.cluster import new_cluster
from tests.security.leaks import leaks
from tests.security.test_atk13g_secret_in_object_name_cluster import _cluster_texts
from tests.security.test_render_network import Listener, listener  # noqa: F401 (fixture)

pytestmark = pytest.mark.tools

SECRET = "atk13m-outside-token-7d41c0b2e9"


def _crd(ref: str) -> str:
    return f"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
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
              $ref: "{ref}"
"""


WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {}\n"


def _repo(root: Path, ref: str) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "crd.yaml").write_text(_crd(ref), encoding="utf-8")
    (root / "app" / "widget.yaml").write_text(WIDGET, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def _validate(repo: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "TMPDIR": str(repo.parent)}
    return subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo),
                           str(repo / "app"), *extra], capture_output=True, text=True, timeout=300, check=False,
                          cwd=repo, env=env)


def _crash_logs(where: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in where.glob("handoff-crash-*.log"))


@pytest.mark.parametrize("output", ["text", "json", "sarif"])
def test_validate_does_not_read_and_quote_a_file_outside_the_repo_through_a_crd_ref(tmp_path: Path,
                                                                                   output: str) -> None:
    outside = tmp_path / "outside" / "creds.json"
    outside.parent.mkdir()
    outside.write_text(json.dumps({"token": SECRET}), encoding="utf-8")  # a JSON credentials file
    repo = _repo(tmp_path / "repo", f"file://{outside}#/token")
    done = _validate(repo, "--output", output)
    found = leaks({"validate stdout": done.stdout, "validate stderr": done.stderr,
                   "crash log": _crash_logs(tmp_path)}, [SECRET])
    assert found == [], (
        "a CRD's openAPIV3Schema $ref made handoff's own process read a file outside the config repo and "
        f"quote it: {sorted({w for w, _, _ in found})}: {(done.stdout + done.stderr)[-400:]}")


def test_validate_does_not_fetch_a_crd_schema_ref(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    repo = _repo(tmp_path / "repo", f"{listener.url}/schema.json")
    _validate(repo)
    assert listener.requests == [], (f"handoff itself (not a fenced child) fetched {listener.requests} through a "
                                     "CRD schema $ref while validating: SSRF from CI")


def test_reconcile_does_not_fetch_a_crd_schema_ref(apiserver: Any, git_server: GitServer, tmp_path: Path,
                                                 listener: Listener) -> None:  # noqa: F811
    c = new_cluster(apiserver, git_server, tmp_path, {"app/crd.yaml": _crd(f"{listener.url}/probe.json"),
                                                      "app/widget.yaml": WIDGET})
    rec = c.reconciler()
    result = rec.reconcile(rec.settings.sources[0])
    assert listener.requests == [], (f"the reconciler's own process fetched {listener.requests} through a CRD "
                                     f"schema $ref (SSRF from inside the cluster): {result.message!r}")


def test_reconcile_does_not_quote_a_file_outside_the_checkout_in_status_or_events(
        apiserver: Any, git_server: GitServer, tmp_path: Path) -> None:
    outside = tmp_path / "other-source" / "creds.json"  # another tenant's checkout, a Secret mount…
    outside.parent.mkdir()
    outside.write_text(json.dumps({"token": SECRET}), encoding="utf-8")
    c = new_cluster(apiserver, git_server, tmp_path, {"app/crd.yaml": _crd(f"file://{outside}#/token"),
                                                      "app/widget.yaml": WIDGET})
    rec = c.reconciler()
    result = rec.reconcile(rec.settings.sources[0])
    texts = {**_cluster_texts(c), "pass message": str(result.message)}
    found = leaks(texts, [SECRET])
    assert found == [], (f"a file outside the source's checkout, read by the reconciler through a CRD schema $ref, "
                         f"is quoted in {sorted({w for w, _, _ in found})}: {result.message!r}")
