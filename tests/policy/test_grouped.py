"""The built-in engine evaluates every pod-spec policy of an object in one CEL execution that binds each
item once for all of them (``grouped_expression``); it must give each policy exactly the rows its own
``fast_expression`` gives."""

from __future__ import annotations

from handoff.policy.cel_engine import CelEngine, fast_expression, grouped_expression
from handoff.policy.celext import kubernetes_context
from handoff.policy.celmod import cel
from handoff.policy.fixtures import objects_from_yaml
from handoff.policy.model import PolicyContext
from handoff.policy.pack import builtin_dir, load_policy_file
from handoff.policy.params import resolve_params
from handoff.policy.paths import pod_spec

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: mixed}
spec:
  hostNetwork: true
  securityContext: {sysctls: [{name: kernel.msgmax, value: "1"}]}
  initContainers:
    - {name: init, image: "busybox:latest", securityContext: {privileged: true}}
  containers:
    - name: app
      image: registry.example.com/app:1.0
      imagePullPolicy: Always
      securityContext: {capabilities: {add: [NET_ADMIN]}, allowPrivilegeEscalation: false}
      resources: {requests: {cpu: 100m}}
    - {name: sidecar, image: "quay.io/side@sha256:0123", ports: [{containerPort: 80, hostPort: 80}]}
  volumes:
    - {name: host, hostPath: {path: /var/run}}
    - {name: scratch, emptyDir: {}}
"""


def test_one_execution_gives_each_policy_its_own_rows() -> None:
    policies = [load_policy_file(p) for p in sorted(builtin_dir().glob("*.yaml"))]
    pod_policies = [p for p in policies if p.foreach in ("podSpec", "containers", "allContainers", "volumes")]
    assert {p.foreach for p in pod_policies} == {"podSpec", "containers", "allContainers", "volumes"}
    [item] = objects_from_yaml(POD, "pod.yaml")
    context = kubernetes_context()
    context.add_variable("__params", {p.id: resolve_params(p.id, p.params, {"allowed-registries.registries":
                                                                           ["registry.example.com"]})
                                      for p in pod_policies})
    context.add_variable("podSpec", pod_spec(item.obj))
    context.add_variable("object", item.obj)
    for root in ("podSpec", "object.spec"):
        grouped = cel.compile(grouped_expression(pod_policies, root)).execute(context)
        own = [cel.compile(fast_expression(p, root)).execute(context) for p in pod_policies]
        # per distinct foreach, per item, per policy of that foreach: regrouped, each policy's own rows
        order = list(dict.fromkeys(p.foreach for p in pod_policies))
        regrouped = []
        for policy in pod_policies:
            same = [p for p in pod_policies if p.foreach == policy.foreach]
            regrouped.append([row[same.index(policy)] for row in grouped[order.index(policy.foreach)]])
        assert regrouped == own
        assert any(cell for rows in own for row in rows for cell in row)  # some fail: messages compared too


def test_engine_findings_match_the_slow_path_on_mixed_pod() -> None:
    policies = [load_policy_file(p) for p in sorted(builtin_dir().glob("*.yaml"))]
    objects = objects_from_yaml(POD, "pod.yaml")
    context = PolicyContext(params={"allowed-registries.registries": ["registry.example.com"],
                                    "require-image-digest.enabled": True})
    fast = CelEngine(policies).evaluate(objects, context).findings
    assert fast == CelEngine(policies, fast=False).evaluate(objects, context).findings
    assert len({f.rule for f in fast}) >= 8


ANNOTATED = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, annotations: {note: x}}
spec:
  template:
    metadata:
      annotations: {container.apparmor.security.beta.kubernetes.io/app: unconfined}
    spec:
      securityContext: {seccompProfile: {type: Unconfined}}
      containers:
        - {name: app, image: "nginx:1.27", livenessProbe: {httpGet: {path: /, port: 80}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          annotations: {container.apparmor.security.beta.kubernetes.io/job: localhost/prof}
        spec:
          containers: [{name: job, image: "busybox:1.36"}]
          restartPolicy: Never
---
apiVersion: v1
kind: PodTemplate
metadata: {name: tpl}
template:
  metadata:
    annotations: {container.apparmor.security.beta.kubernetes.io/t: unconfined}
  spec:
    containers: [{name: t, image: "busybox:1.36"}]
---
apiVersion: v1
kind: Pod
metadata:
  name: bare
  annotations: {container.apparmor.security.beta.kubernetes.io/p: unconfined}
spec:
  containers: [{name: p, image: "busybox:1.36"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: odd}
spec: {template: "not a mapping"}
"""


def test_policies_reading_object_fields_see_them_through_the_cut_object() -> None:
    """restrict-pod-security-options reads the pod's annotations through ``object``: only the chains it
    selects are bound, and its findings are the ones the whole object gives."""
    policies = [load_policy_file(p) for p in sorted(builtin_dir().glob("*.yaml"))]
    objects = objects_from_yaml(ANNOTATED, "annotated.yaml")
    fast = CelEngine(policies).evaluate(objects, PolicyContext()).findings
    assert fast == CelEngine(policies, fast=False).evaluate(objects, PolicyContext()).findings
    apparmor = {(f.object.kind, f.path) for f in fast
                if f.object is not None and f.rule == "restrict-pod-security-options"}
    assert {("Deployment", "spec.template.metadata.annotations"), ("PodTemplate", "template.metadata.annotations"),
            ("Pod", "metadata.annotations")} <= apparmor
    assert not any(kind == "CronJob" for kind, _ in apparmor)
