"""What the cluster gets is what the PR showed: a source can render exactly what a `.handoff.yaml`
environment declares (`renderer: env`, the same render `handoff validate --env` and propose use), or a
Helm chart with its values files. Against the real apiserver + etcd and git server."""

from pathlib import Path
from typing import Any

import pytest

from handoff.errors import ConfigError
from handoff.reconciler.config import Source
from handoff.reconciler.status import SUCCEEDED
from tests.harness.tools import require_tool

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
