"""The ValidatingAdmissionPolicy examples from the Kubernetes documentation give their documented verdicts."""

from __future__ import annotations

import textwrap
from pathlib import Path

from handoff.policy.fixtures import objects_from_yaml
from handoff.policy.loader import load_policy_dir
from handoff.policy.model import PolicyContext
from handoff.policy.vap import load_admission_documents, resource_name
from handoff.report.model import Severity

DOCS = Path(__file__).parent / "fixtures" / "vap-docs"


def deployment(name: str, namespace: str, replicas: int) -> str:
    return textwrap.dedent(f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
          namespace: {namespace}
        spec:
          replicas: {replicas}
          selector: {{matchLabels: {{app: {name}}}}}
          template:
            metadata: {{labels: {{app: {name}}}}}
            spec:
              containers: [{{name: app, image: "nginx:1.27"}}]
        """)


NAMESPACES = textwrap.dedent("""\
    apiVersion: v1
    kind: Namespace
    metadata:
      name: test-ns
      labels: {environment: test}
    ---
    apiVersion: v1
    kind: Namespace
    metadata:
      name: prod-ns
      labels: {environment: prod}
    """)


def evaluate(files: list[str], manifests: str) -> list[tuple[str, str, Severity, str]]:
    documents = []
    params = []
    for name in files:
        loaded = load_policy_dir(DOCS / name)
        documents.extend(loaded.admission)
        params.extend(doc for doc, _ in loaded.params)
    engine = load_admission_documents(documents, params)
    objects = objects_from_yaml(manifests, "render.yaml")
    report = engine.evaluate(objects, PolicyContext())
    return [(f.object.name if f.object else "", f.rule, f.severity, f.message) for f in report.findings]


def test_replicas_le_5_denies_only_in_namespaces_labelled_test() -> None:
    manifests = "---\n".join([
        NAMESPACES,
        deployment("five", "test-ns", 5),
        deployment("six", "test-ns", 6),
        deployment("six-in-prod", "prod-ns", 6),
    ])
    findings = evaluate(["basic-example-policy.yaml", "basic-example-binding.yaml"], manifests)
    # The documented error text, word for word.
    assert findings == [(
        "six", "demo-policy.example.com", Severity.ERROR,
        "ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' "
        "denied request: failed expression: object.spec.replicas <= 5",
    )]


def test_param_policy_uses_the_param_each_binding_selects() -> None:
    manifests = "---\n".join([
        NAMESPACES,
        deployment("three-in-test", "test-ns", 3),
        deployment("four-in-test", "test-ns", 4),
        deployment("fifty-in-prod", "prod-ns", 50),
        deployment("many-in-prod", "prod-ns", 101),
    ])
    findings = evaluate(
        ["policy-with-param.yaml", "binding-with-param.yaml", "binding-with-param-prod.yaml",
         "replicalimit-param.yaml", "replicalimit-param-prod.yaml"],
        manifests,
    )
    assert [(name, rule) for name, rule, _, _ in findings] == [
        ("four-in-test", "replicalimit-policy.example.com"),
        ("many-in-prod", "replicalimit-policy.example.com"),
    ]
    assert "binding 'replicalimit-binding-test.example.com'" in findings[0][3]
    assert "failed expression: object.spec.replicas <= params.maxReplicas" in findings[0][3]
    assert "binding 'replicalimit-binding-nontest'" in findings[1][3]


def test_param_from_the_render_and_missing_param_denies() -> None:
    param = textwrap.dedent("""\
        apiVersion: rules.example.com/v1
        kind: ReplicaLimit
        metadata: {name: replica-limit-test.example.com, namespace: default}
        maxReplicas: 10
        """)
    with_param = "---\n".join([NAMESPACES, param, deployment("four-in-test", "test-ns", 4)])
    assert evaluate(["policy-with-param.yaml", "binding-with-param.yaml"], with_param) == []
    without = "---\n".join([NAMESPACES, deployment("four-in-test", "test-ns", 4)])
    [(name, _, severity, message)] = evaluate(["policy-with-param.yaml", "binding-with-param.yaml"], without)
    assert (name, severity) == ("four-in-test", Severity.ERROR)
    assert "failed to find params" in message


def test_warn_and_audit_actions_map_to_warning_and_info(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(textwrap.dedent("""\
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicy
        metadata: {name: need-team-label}
        spec:
          matchConstraints:
            resourceRules:
              - {apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["deployments"]}
          matchConditions:
            - name: not-system
              expression: "!object.metadata.name.startsWith('system-')"
          variables:
            - name: team
              expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
          validations:
            - expression: variables.team
              messageExpression: "'deployment ' + object.metadata.name + ' has no team label'"
              fieldPath: .metadata.labels
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicyBinding
        metadata: {name: warn}
        spec: {policyName: need-team-label, validationActions: [Warn]}
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicyBinding
        metadata: {name: audit}
        spec: {policyName: need-team-label, validationActions: [Audit]}
        """))
    loaded = load_policy_dir(tmp_path)
    engine = load_admission_documents(loaded.admission)
    objects = objects_from_yaml(deployment("web", "default", 1) + "---\n" + deployment("system-x", "default", 1),
                                "render.yaml")
    findings = engine.evaluate(objects, PolicyContext()).findings
    assert [(f.object.name if f.object else "", f.severity) for f in findings] == [
        ("web", Severity.WARNING), ("web", Severity.INFO)
    ]
    assert findings[0].message == (
        "Validation failed for ValidatingAdmissionPolicy 'need-team-label' with binding 'warn': "
        "deployment web has no team label"
    )
    assert (findings[0].line, findings[0].path) == (3, "metadata.labels")


def test_resource_names() -> None:
    assert [resource_name(k) for k in ("Deployment", "Ingress", "NetworkPolicy", "Endpoints", "Gateway")] == [
        "deployments", "ingresses", "networkpolicies", "endpoints", "gateways"
    ]
