"""Waivers (annotations and expiring config entries) and ``handoff validate`` running policies."""

from __future__ import annotations

import datetime
import json
import textwrap
from pathlib import Path

import pytest

from handoff.cli import main
from handoff.config import Waiver
from handoff.policy.cel_engine import CelEngine
from handoff.policy.fixtures import objects_from_yaml
from handoff.policy.model import PolicyContext
from handoff.policy.pack import builtin_dir, load_policy_file
from handoff.policy.waivers import apply_waivers, parse_annotation

POD = textwrap.dedent("""\
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
      namespace: shop
      annotations:
        handoff.dev/waive: |
          disallow-latest-tag=vendor image, pinned upstream soon
    spec:
      containers:
        - name: web
          image: nginx:latest
          securityContext: {privileged: true}
    """)


def report_for(manifest: str, *policies: str):
    objects = objects_from_yaml(manifest, "pod.yaml")
    engine = CelEngine([load_policy_file(builtin_dir() / f"{p}.yaml") for p in policies])
    return objects, engine.evaluate(objects, PolicyContext())


def test_annotation_syntax_allows_commas_in_reasons() -> None:
    waivers = parse_annotation("disallow-latest-tag=vendor, pinned soon, run-as-non-root=needs root\n"
                               "disallow-privileged = kernel module")
    assert [(w.policy, w.reason) for w in waivers] == [
        ("disallow-latest-tag", "vendor, pinned soon"),
        ("run-as-non-root", "needs root"),
        ("disallow-privileged", "kernel module"),
    ]


def test_annotation_waives_only_its_policy_and_is_listed() -> None:
    objects, report = report_for(POD, "disallow-latest-tag", "disallow-privileged")
    waived = apply_waivers(report, objects)
    assert [f.rule for f in waived.findings] == ["disallow-privileged"]
    [use] = waived.waivers
    assert (use.rule, use.reason, use.source) == ("disallow-latest-tag", "vendor image, pinned upstream soon",
                                                  "pod.yaml:7")
    assert use.object is not None and use.object.name == "web"


def test_config_waiver_until_expiry_then_a_finding_saying_so() -> None:
    objects, report = report_for(POD, "disallow-privileged")
    waiver = Waiver(policy="disallow-privileged", match={"kind": "Pod", "name": "web", "namespace": "shop"},
                    reason="CSI driver", expires=datetime.date(2026, 3, 31), line=12)

    before = apply_waivers(report, objects, [waiver], today=datetime.date(2026, 3, 31))
    assert before.findings == ()
    [use] = before.waivers
    assert (use.source, use.expires, use.expired) == (".handoff.yaml:12", "2026-03-31", False)

    after = apply_waivers(report, objects, [waiver], today=datetime.date(2026, 4, 1))
    assert sorted(f.rule for f in after.findings) == ["disallow-privileged", "waiver-expired"]
    expired = next(f for f in after.findings if f.rule == "waiver-expired")
    assert (expired.file, expired.line) == (".handoff.yaml", 12)
    assert "expired on 2026-03-31" in expired.message
    assert any(w.expired for w in after.waivers)


def test_config_waiver_match_is_a_glob_and_must_match_every_key() -> None:
    objects, report = report_for(POD, "disallow-privileged")
    other_ns = Waiver(policy="disallow-privileged", match={"namespace": "prod-*"}, reason="x", line=3)
    any_web = Waiver(policy="disallow-privileged", match={"name": "we*"}, reason="x", line=4)
    assert len(apply_waivers(report, objects, [other_ns]).findings) == 1
    assert apply_waivers(report, objects, [any_web]).findings == ()


DEPLOY = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: {ns}
    spec:
      selector: {{matchLabels: {{app: web}}}}
      template:
        metadata: {{labels: {{app: web}}}}
        spec:
          securityContext: {{runAsNonRoot: true}}
          containers:
            - name: web
              image: ghcr.io/acme/web:1.4.2
              imagePullPolicy: Always
              securityContext: {{allowPrivilegeEscalation: false}}
              resources:
                requests: {{cpu: 100m, memory: 64Mi}}
                limits: {{cpu: 200m, memory: 128Mi}}
              livenessProbe: {{httpGet: {{path: /, port: 80}}}}
              readinessProbe: {{httpGet: {{path: /, port: 80}}}}
    """)

CONFIG = textwrap.dedent("""\
    environments:
      dev:
        render: {type: plain, path: envs/dev}
      prod:
        render: {type: plain, path: envs/prod}
        params:
          require-image-digest: {enabled: true}
    policies:
      params:
        allowed-registries: {registries: [ghcr.io/acme]}
    """)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def validate(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(["validate", "--output", "json", *argv])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_validate_runs_policies_with_env_params(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {".handoff.yaml": CONFIG, "envs/dev/web.yaml": DEPLOY.format(ns="dev"),
                     "envs/prod/web.yaml": DEPLOY.format(ns="prod")})
    code, dev = validate(capsys, "--config-repo", str(tmp_path), "--env", "dev")
    assert (code, dev["findings"]) == (0, [])

    code, prod = validate(capsys, "--config-repo", str(tmp_path), "--env", "prod")
    assert code == 1
    [finding] = prod["findings"]
    assert (finding["rule"], finding["file"], finding["line"], finding["column"], finding["path"],
            finding["severity"]) == ("require-image-digest", "envs/prod/web.yaml", 14, 11,
                                     "spec.template.spec.containers[0].image", "error")

    code, flagged = validate(capsys, "--config-repo", str(tmp_path), "--env", "dev",
                             "--param", "allowed-registries.registries=[\"registry.example.com\"]")
    assert code == 1 and [f["rule"] for f in flagged["findings"]] == ["allowed-registries"]
    code, _ = validate(capsys, "--config-repo", str(tmp_path), "--env", "prod", "--no-builtin")
    assert code == 0


def test_validate_with_a_policy_dir_and_config_waiver(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {
        ".handoff.yaml": "waivers:\n  - policy: team-label\n    match: {kind: Deployment, name: web}\n"
                         "    reason: legacy app\n    expires: 2999-01-01\n",
        "m/web.yaml": DEPLOY.format(ns="dev"),
        "m/api.yaml": DEPLOY.format(ns="dev").replace("name: web\n", "name: api\n", 1),
        "pol/team-label.yaml": textwrap.dedent("""\
            id: team-label
            severity: error
            description: Deployments carry a team label.
            match: {kinds: [Deployment]}
            validations:
              - expression: has(object.metadata.labels) && 'team' in object.metadata.labels
                message: add metadata.labels.team
                fieldPath: metadata.labels
            """),
    })
    code, data = validate(capsys, "--config-repo", str(tmp_path), "--policies", str(tmp_path / "pol"),
                          str(tmp_path / "m"))
    assert code == 1
    assert [(f["rule"], f["file"]) for f in data["findings"]] == [("team-label", "m/api.yaml")]
    assert [(w["rule"], w["source"]) for w in data["waivers"]] == [("team-label", ".handoff.yaml:2")]


def test_policy_test_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "test", str(builtin_dir())]) == 0
    examples = sum(len(load_policy_file(p).examples) for p in builtin_dir().glob("*.yaml"))  # 21 before C8
    assert f"{examples} examples, 0 failed" in capsys.readouterr().out
    broken = (builtin_dir() / "require-probes.yaml").read_text().replace("line: 7, column: 7", "line: 8, column: 7")
    (tmp_path / "require-probes.yaml").write_text(broken)
    assert main(["policy", "test", str(tmp_path)]) == 1
    assert "FAIL  require-probes: readiness missing" in capsys.readouterr().out


def test_bad_policy_file_is_a_one_line_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "oops.yaml").write_text("id: oops\nvalidations:\n  - expression: 'object.spec.replicas <'\n")
    assert main(["policy", "list", "--policies", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'oops.yaml'}:3: at validations[0].expression: invalid CEL" in err
