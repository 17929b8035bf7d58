import json
import socket
from pathlib import Path

import pytest

from handoff.validate import builtin, schemas
from tests.validate.helpers import DEPLOYMENT, check, where, write_tree

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    plural: widgets
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
              type: object
              properties:
                size:
                  type: integer
                port:
                  x-kubernetes-int-or-string: true
                extra:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
"""

WIDGET = """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  size: {size}
  port: http
  extra:
    anything: goes
"""


def test_custom_resource_violating_its_crd_fails_at_the_crs_line(tmp_path: Path) -> None:
    write_tree(tmp_path, {"crds/widget.yaml": CRD, "apps/ok.yaml": WIDGET.format(size=3),
                          "apps/bad.yaml": WIDGET.format(size='"big"') + "  colour: red\n"})
    report = check(tmp_path)
    assert where(report.findings) == [
        ("apps/bad.yaml", 6, 3, "spec.size", "schema"),
        ("apps/bad.yaml", 10, 3, "spec.colour", "schema/unknown-field"),
    ]
    assert report.summary() == "3 objects in 3 files: 2 valid, 1 invalid, 0 skipped"


def test_crd_catalog_directory_supplies_schemas(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog" / "example.com"
    catalog.mkdir(parents=True)
    (catalog / "widget_v1.json").write_text(json.dumps({
        "type": "object", "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}))
    write_tree(tmp_path, {"apps/w.yaml": WIDGET.format(size='"big"')})
    report = check(tmp_path, "apps", crd_catalogs=(tmp_path / "catalog",))
    assert where(report.findings) == [("apps/w.yaml", 6, 3, "spec.size", "schema")]


def test_validation_is_fully_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing may reach the network: schemas and $refs all resolve locally."""
    def no_network(*args: object, **kwargs: object) -> None:
        raise OSError("network access attempted during validation")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    # start cold so schema loading and compilation happen under the guard
    schemas.kubernetes_schemas.cache_clear()
    builtin._compiled.clear()
    write_tree(tmp_path, {"crd.yaml": CRD, "w.yaml": WIDGET.format(size=1), "web.yaml": DEPLOYMENT,
                          "typo.yaml": DEPLOYMENT.replace("replicas", "replicsa")})
    report = check(tmp_path)
    assert report.summary() == "4 objects in 4 files: 3 valid, 1 invalid, 0 skipped"
    assert [f.rule for f in report.findings] == ["schema/unknown-field"]
