"""What the cluster gets is what the PR showed: a source can render exactly what a `.handoff.yaml`
environment declares (`renderer: env`, the same render `handoff validate --env` and propose use), or a
Helm chart with its values files. Against the real apiserver + etcd and git server."""

from pathlib import Path
from typing import Any

import pytest

from handoff.cli import main
from handoff.config import load_config
from handoff.errors import ConfigError, HandoffError, ReconcileError
from handoff.reconciler.config import Source
from handoff.reconciler.loop import plan_source, render_source
from handoff.reconciler.source import Checkout
from handoff.reconciler.status import SUCCEEDED
from handoff.report.model import Severity
from handoff.report.writers import WRITERS, WriterOptions
from handoff.workflows.plan import Plan
from handoff.workflows.propose import default_validator
from tests.harness.tools import require_tool
from tests.validate.test_crds import CRD, WIDGET

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "chart/values.yaml": "image: registry.example/web:1.0.0\nreplicas: 1\n",
    "chart/templates/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: {{ .Values.image }}
          imagePullPolicy: Always
          securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false}
          resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 100m, memory: 64Mi}}
          livenessProbe: {httpGet: {path: /, port: 8080}}
          readinessProbe: {httpGet: {path: /, port: 8080}}
""",
    "envs/prod/values.yaml": "image: registry.example/web:2.0.0 # handoff:image web\nreplicas: 3\n",
}
CONFIG = """\
environments:
  prod:
    render: {type: helm, path: chart, values: [envs/prod/values.yaml], release: shop}
"""


def _deployment(cluster: Any, name: str) -> dict[str, Any]:
    deploy = cluster.get("apps/v1", "Deployment", name)
    assert deploy is not None, f"Deployment {name} was not applied"
    return deploy


def test_renderer_env_applies_what_the_environment_declares(apiserver: Any, git_server: Any,
                                                            tmp_path: Path) -> None:
    require_tool("helm")
    cluster = new_cluster(apiserver, git_server, tmp_path, {**CHART, ".handoff.yaml": CONFIG})
    rec = cluster.reconciler(renderer="env", env="prod", path=".")
    result = rec.reconcile(rec.settings.sources[0])
    assert result.result == SUCCEEDED, result.message
    spec = _deployment(cluster, "shop-web")["spec"]
    assert spec["replicas"] == 3
    assert spec["template"]["spec"]["containers"][0]["image"] == "registry.example/web:2.0.0"


def test_helm_source_with_values_files(apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    require_tool("helm")
    cluster = new_cluster(apiserver, git_server, tmp_path, CHART)
    rec = cluster.reconciler(renderer="helm", path="chart", values=("envs/prod/values.yaml",), release="blue")
    result = rec.reconcile(rec.settings.sources[0])
    assert result.result == SUCCEEDED, result.message
    assert _deployment(cluster, "blue-web")["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "registry.example/web:2.0.0"


def test_source_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="renderer env needs env"):
        Source(name="s", url="https://git.example/config.git", renderer="env")
    with pytest.raises(ConfigError, match="must stay inside"):
        Source(name="s", url="https://git.example/config.git", values=("../secrets.yaml",))


# --- one plan: the CI path and the reconciler path give the same objects and the same findings -------

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "config-repo"
MONITOR = """\
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector: {matchLabels: {app: web}}
"""


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _assert_same_plan(root: Path, env: str, capsys: pytest.CaptureFixture[str]) -> Plan:
    config = load_config(root)
    assert config is not None
    source = Source(name="s", url="https://git.example/config.git", renderer="env", env=env)
    reconciler = plan_source(source, Checkout(revision="0" * 40, root=root))
    proposed = default_validator(root, config, env)  # what propose and promote check
    assert proposed is not None
    assert [o.obj for o in reconciler.objects] == [o.obj for o in proposed.objects]
    assert [(o.file, o.line) for o in reconciler.objects] == [(o.file, o.line) for o in proposed.objects]
    assert reconciler.report == proposed.report
    capsys.readouterr()
    code = main(["validate", "--config-repo", str(root), "--env", env, "--output", "json"])
    assert capsys.readouterr().out == WRITERS["json"](reconciler.report, WriterOptions())
    assert code == (1 if reconciler.failed() else 0)
    return reconciler


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_ci_and_reconciler_plan_the_example_repo_alike(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    require_tool("kustomize")
    plan = _assert_same_plan(EXAMPLE, env, capsys)
    assert plan.objects and plan.report.findings  # the example has warnings: findings are compared too


def test_ci_and_reconciler_plan_a_helm_env_alike(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A kind without a schema is an error in CI; the cluster used to skip it (ignore_missing_schemas)."""
    require_tool("helm")
    root = _write(tmp_path, {**CHART, ".handoff.yaml": CONFIG, "chart/templates/monitor.yaml": MONITOR})
    plan = _assert_same_plan(root, "prod", capsys)
    assert [f.rule for f in plan.report.findings if f.severity >= Severity.ERROR] == ["schema/missing"]
    source = Source(name="s", url="https://git.example/config.git", renderer="env", env="prod")
    with pytest.raises(ReconcileError, match=r"no schema for monitoring\.coreos\.com/v1 ServiceMonitor"):
        render_source(source, Checkout(revision="0" * 40, root=root))


def test_reconciler_uses_the_configs_kubernetes_version(tmp_path: Path) -> None:
    """The config's kubernetes_version picks the schemas in the cluster as in CI (not the newest)."""
    require_tool("helm")
    root = _write(tmp_path, {**CHART, ".handoff.yaml": "kubernetes_version: '0.1'\n" + CONFIG})
    source = Source(name="s", url="https://git.example/config.git", renderer="env", env="prod")
    with pytest.raises(HandoffError, match=r"no schemas for Kubernetes version .0\.1."):
        plan_source(source, Checkout(revision="0" * 40, root=root))


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    handoff.dev/waive: "require-probes=probes come from the mesh sidecar"
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:latest
          resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 100m, memory: 64Mi}}
        - name: agent
          image: docker.io/acme/agent:1.0
"""


def test_ci_and_reconciler_plan_a_kustomize_env_with_a_crd_alike(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The CRD in the render is the schema of its custom resources, in both paths: the same objects,
    the same schema findings on the bad Widgets, none on the good one."""
    require_tool("kustomize")
    root = _write(tmp_path, {
        ".handoff.yaml": "environments:\n  dev: {render: {type: kustomize, path: envs/dev}}\n",
        "envs/dev/kustomization.yaml": "resources: [crd.yaml, widgets.yaml, deployment.yaml]\nnamespace: shop\n",
        "envs/dev/crd.yaml": CRD,
        "envs/dev/widgets.yaml": WIDGET.format(size=3) + "---\n"
        + WIDGET.format(size='"three"').replace("name: w", "name: bad"),
        "envs/dev/deployment.yaml": DEPLOYMENT,
    })
    plan = _assert_same_plan(root, "dev", capsys)
    assert [o.obj["kind"] for o in plan.objects].count("Widget") == 2
    failing = {f.object.name for f in plan.report.findings
               if f.severity >= Severity.ERROR and f.object is not None and f.object.kind == "Widget"}
    assert failing == {"bad"}
    assert not [f for f in plan.report.findings if f.rule == "schema/missing"]


def test_ci_and_reconciler_plan_an_env_with_waivers_and_params_alike(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The environment's params and the config's waivers (one live, one expired) apply in the cluster
    as in CI: the same findings, the same waivers used, the same environment params."""
    require_tool("kustomize")
    config = """\
policies:
  params:
    allowed-registries: {registries: [ghcr.io/acme]}
environments:
  prod:
    render: {type: kustomize, path: envs/prod}
    params:
      require-image-digest: {enabled: true}
      disallow-latest-tag: {severity: warning}
waivers:
  - policy: allowed-registries
    match: {kind: Deployment, name: web}
    reason: the agent image is mirrored later
    expires: 2999-12-31
  - policy: require-requests-limits
    match: {kind: Deployment, name: web}
    reason: an old exception
    expires: 2001-01-01
"""
    root = _write(tmp_path, {
        ".handoff.yaml": config,
        "envs/prod/kustomization.yaml": "resources: [deployment.yaml]\nnamespace: shop\n",
        "envs/prod/deployment.yaml": DEPLOYMENT,
    })
    plan = _assert_same_plan(root, "prod", capsys)
    rules = {f.rule: f.severity for f in plan.report.findings}
    assert rules["require-image-digest"] >= Severity.ERROR  # enabled by the environment's params
    assert rules["disallow-latest-tag"] == Severity.WARNING  # its severity lowered by them
    assert "waiver-expired" in rules and "allowed-registries" not in rules
    assert {w.rule for w in plan.report.waivers} >= {"allowed-registries", "require-probes"}
    assert plan.report.environments and plan.report.environments[0].params


def test_ci_and_reconciler_plan_a_helm_env_with_values_files_alike(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Two values files, the later one winning, and a policy finding that points at the values file
    line that set the image: the same objects, positions and findings in both paths."""
    require_tool("helm")
    config = ("environments:\n  prod:\n    render: {type: helm, path: chart, release: shop,\n"
              "             values: [envs/prod/values.yaml, envs/prod/override.yaml]}\n")
    root = _write(tmp_path, {**CHART, ".handoff.yaml": config,
                             "envs/prod/override.yaml": "replicas: 5\nimage: registry.example/web:latest\n"})
    plan = _assert_same_plan(root, "prod", capsys)
    deploy = next(o.obj for o in plan.objects if o.obj["kind"] == "Deployment")
    assert deploy["spec"]["replicas"] == 5
    latest = [f for f in plan.report.findings if f.rule == "disallow-latest-tag"]
    assert latest and {f.file for f in latest} == {"envs/prod/override.yaml"}
