"""A Secret's value stamped into another object's identity (its name, a data key) is masked wherever a
report or a log names that object: validate's ``masked`` masks the identity of every finding, object result
and waiver (consistently, so findings still land on their objects), and the reconciler's drift log masks the
drifted object's name and field paths."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from handoff.report.model import Finding, ObjectRef, ObjectResult, Severity, ValidationReport, WaiverUse
from handoff.validate import masked
from tests.harness.tools import require_tool
from tests.reconciler.cluster import new_cluster
from tests.security.leaks import leaks

PASSWORD = "s3cretvaluexyz42"
SHOWN = "<secret sha256:0badc0de>"


def test_masked_hides_the_value_in_every_identity_and_keeps_findings_on_their_objects() -> None:
    ref = ObjectRef("v1", "ConfigMap", f"cfg-{PASSWORD}", f"ns-{PASSWORD}")
    report = ValidationReport(
        objects=(ObjectResult(ref, "cm.yaml", 1, "valid"), ObjectResult(ObjectRef("v1", "Secret", "db"), "s.yaml", 1,
                                                                        "valid")),
        findings=(Finding("schema", Severity.ERROR, "not a string", "cm.yaml", 5, path=f"data.{PASSWORD}",
                          object=ref),),
        waivers=(WaiverUse("disallow-latest-tag", ref, "ok", ".handoff.yaml"),))
    shown = masked(report, {PASSWORD: SHOWN})
    assert leaks({"report": repr(shown), "json": repr(shown.to_data())}, [PASSWORD]) == []
    assert shown.findings[0].object == shown.objects[0].object == shown.waivers[0].object
    assert shown.objects[0].object is not None and shown.objects[0].object.name == f"cfg-{SHOWN}"
    assert shown.findings[0].path == f"data.{SHOWN}"
    assert shown.objects[1].object == ObjectRef("v1", "Secret", "db")
    counts = shown.counts()
    assert (counts.invalid, counts.valid, counts.unattached) == (1, 1, 0)


@pytest.mark.tools
def test_the_reconcilers_drift_log_masks_an_object_name_carrying_a_secret_value(
        apiserver: Any, git_server: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, {
        "app/kustomization.yaml": "resources: [secret.yaml, cm.yaml]\n",
        "app/secret.yaml": f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {PASSWORD}\n",
        "app/cm.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-{PASSWORD}\ndata:\n  mode: a\n"})
    rec = c.reconciler()
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.client.patch(ObjectRef("v1", "ConfigMap", f"cfg-{PASSWORD}", c.target_ns), {"data": {"mode": "b"}},
                   content_type="application/merge-patch+json", params={"fieldManager": "intruder"})
    with caplog.at_level(logging.INFO, logger="handoff"):
        result = rec.reconcile(source)
    assert result.drift
    drift_logs = [r for r in caplog.records if r.getMessage() == "drift"]
    assert drift_logs, [r.getMessage() for r in caplog.records]
    texts = {f"log {r.getMessage()} {n}": repr(r.__dict__) for n, r in enumerate(caplog.records)}
    assert leaks(texts, [PASSWORD]) == [], sorted({w for w, _, _ in leaks(texts, [PASSWORD])})
    assert "ConfigMap/" in str(drift_logs[0].__dict__["object"])
