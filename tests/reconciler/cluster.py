"""Shared set-up for the end-to-end tests: a fresh namespace pair, a config repo on the harness git
server, and a reconciler (the library, in-process) pointed at both."""

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handoff.kube.client import KubeClient, connect
from handoff.reconciler.config import Credentials, PruneSettings, Settings, Source
from handoff.reconciler.loop import Reconciler

from .gitrepo import WorkRepo


def kustomize_app(image: str = "registry.example/web:1.0.0", *, with_service: bool = True,
                  with_configmap: bool = True, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    resources = ["deployment.yaml"] + (["service.yaml"] if with_service else []) + (
        ["configmap.yaml"] if with_configmap else []) + list(extra or {})
    files = {
        "app/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                                  "resources:\n" + "".join(f"  - {r}\n" for r in resources),
        # replicas omitted, cpu as a number, many fields left to API-server defaults: no false drift
        "app/deployment.yaml": f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
        - name: web
          image: {image}
          ports: [{{containerPort: 8080}}]
          resources:
            requests: {{cpu: 0.5, memory: 64Mi}}
            limits: {{cpu: 1, memory: 128Mi}}
""",
        "app/service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
""",
        "app/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  mode: prod\n",
    }
    files.update(extra or {})
    return {k: v for k, v in files.items() if with_service or k != "app/service.yaml"}


@dataclass
class Cluster:
    client: KubeClient
    control_ns: str
    target_ns: str
    repo: WorkRepo
    url: str
    token_file: Path
    username: str
    workdir: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def source(self, **changes: Any) -> Source:
        base: dict[str, Any] = {
            "name": f"src-{self.target_ns}", "url": self.url, "revision": "main", "path": "app",
            "namespace": self.target_ns, "interval": 1.0,
            "credentials": Credentials(token_file=str(self.token_file), username=self.username)}
        base.update(changes)
        return Source(**base)

    def settings(self, **changes: Any) -> Settings:
        return Settings(sources=(self.source(**changes),), namespace=self.control_ns, prune=PruneSettings(),
                        leader_election=False)

    def reconciler(self, **changes: Any) -> Reconciler:
        return Reconciler(self.settings(**changes), self.client, self.workdir)

    def get(self, api_version: str, kind: str, name: str) -> dict[str, Any] | None:
        return self.client.get(api_version, kind, name, self.target_ns)

    def status(self) -> dict[str, str]:
        cm = self.client.get("v1", "ConfigMap", f"handoff-status-src-{self.target_ns}", self.control_ns)
        return dict((cm or {}).get("data") or {})

    def drift_report(self) -> Any:
        return json.loads(self.status()["drift"])


def new_cluster(apiserver: Any, git_server: Any, tmp_path: Path, files: dict[str, str]) -> Cluster:
    client = connect(apiserver.kubeconfig)
    uid = uuid.uuid4().hex[:6]
    control, target = f"hs-{uid}", f"app-{uid}"
    for ns in (control, target):
        client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    name = f"config-{uid}"
    url = git_server.create_repo(name, files)
    repo = WorkRepo(tmp_path / "work", f"file://{git_server.bare_path(name)}")
    token = tmp_path / "token"
    token.write_text(str(git_server.password))
    return Cluster(client=client, control_ns=control, target_ns=target, repo=repo, url=url, token_file=token,
                   username=str(git_server.username), workdir=tmp_path / "cache")
