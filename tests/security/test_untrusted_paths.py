"""Nothing outside the source root is read: the symlink and ``..`` attacks of issue 13, each run end to
end on both sides of the wall — CI (``handoff validate``, ``propose``, ``promote``, real helm and
kustomize, the harness git server) and the cluster (``handoff reconcile --once`` and a served pass with
/metrics, real kube-apiserver + etcd) — refused before any renderer runs, nothing applied or pushed,
and the token found nowhere (``tests.security.leaks``: raw, URL, hex, base64 and base32 forms, at every alignment).

The attacks: (a) a chart link ``env.txt -> /proc/self/environ`` read by ``.Files.Get … | b32enc`` with
the forge token in the environment; (b) a chart link to the file holding the git token, read into a
ConfigMap; (c) a plain-manifest link to a Secret outside the repo; (d) a kustomize base reaching
into a sibling source's checkout (``../../../victim/private``), which the reconciler keeps side by side.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from handoff.errors import PathEscapeError
from handoff.kube.client import connect
from handoff.render import render_path
from handoff.validate.crds import check_catalogs, load_catalog_schema
from tests.harness.git_server import GitServer
from tests.harness.ports import free_port
from tests.harness.tools import require_tool
from tests.security.leaks import leaks

pytestmark = [pytest.mark.tools, pytest.mark.slow]

HELM_CONFIG = """\
environments:
  staging: {render: {type: helm, path: chart, values: [envs/staging/values.yaml]}}
  prod: {render: {type: helm, path: chart, values: [envs/prod/values.yaml]}}
apps:
  web:
    image: registry.example/web
    targets:
      - type: marker
        path: envs/{env}/values.yaml
"""
TREE_CONFIG = """\
environments:
  staging: {render: {type: %(kind)s, path: envs/staging}}
  prod: {render: {type: %(kind)s, path: envs/prod}}
apps:
  web:
    image: registry.example/web
    targets:
      - type: marker
        path: envs/{env}/deployment.yaml
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: %s
          resources:
            requests: {cpu: 100m, memory: 64Mi}
            limits: {cpu: 200m, memory: 128Mi}
"""
CHART = "apiVersion: v2\nname: web\nversion: 0.1.0\n"
LEAK_TEMPLATE = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n  read: {{ %s }}\n"
SECRET = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: stolen\nstringData:\n  token: %s\n"
KUSTOMIZATION = "resources:\n  - deployment.yaml\n  - ../../../victim/private\n"


@dataclass
class Attack:
    files: dict[str, str]
    links: dict[str, str] = field(default_factory=dict)
    refusal: str = ""  # a regex of the one-line error


def attack(name: str, token_file: Path, outside: Path) -> Attack:
    images = {"staging": "registry.example/web:1.2.0", "prod": "registry.example/web:1.0.0"}
    if name.startswith("helm"):
        read = '.Files.Get "env.txt" | b32enc | quote' if name == "helm-environ" else '.Files.Get "token" | quote'
        files = {".handoff.yaml": HELM_CONFIG, "chart/Chart.yaml": CHART,
                 "chart/templates/deployment.yaml": DEPLOYMENT % "{{ .Values.image }}",
                 "chart/templates/leak.yaml": LEAK_TEMPLATE % read}
        files.update({f"envs/{env}/values.yaml": f"image: {image} # handoff:image web\n"
                      for env, image in images.items()})
        if name == "helm-environ":
            return Attack(files, {"chart/env.txt": "/proc/self/environ"},
                          re.escape("chart/env.txt -> /proc/self/environ: a symlink leaving the config repo"))
        return Attack(files, {"chart/token": str(token_file)},
                      re.escape(f"chart/token -> {token_file}: a symlink leaving the config repo"))
    kind = "plain" if name == "plain-secret" else "kustomize"
    files = {".handoff.yaml": TREE_CONFIG % {"kind": kind}}
    files.update({f"envs/{env}/deployment.yaml": DEPLOYMENT % f"{image} # handoff:image web"
                  for env, image in images.items()})
    if kind == "plain":
        return Attack(files, {f"envs/{env}/secret.yaml": str(outside / "secret.yaml") for env in images},
                      rf"envs/\w+/secret\.yaml -> {re.escape(str(outside))}/secret\.yaml: a symlink leaving "
                      "the config repo")
    files.update({f"envs/{env}/kustomization.yaml": KUSTOMIZATION for env in images})
    return Attack(files, refusal=r"envs/\w+/kustomization\.yaml:3: at resources\[1\]: path "
                                 r"'\.\./\.\./\.\./victim/private' resolves outside the config repo")


ATTACKS = ["helm-environ", "helm-file", "plain-secret", "kustomize-sibling"]


class World:
    """The secret, where it lives outside the repo, and every text a run produced."""

    def __init__(self, server: GitServer, tmp: Path) -> None:
        assert server.username and server.password
        self.server, self.tmp = server, tmp
        self.token = server.password  # the forge/git token CI pushes with and the reconciler fetches with
        self.token_file = tmp / "etc-handoff-git" / "token"  # stands in for /etc/handoff/git/token
        self.token_file.parent.mkdir()
        self.token_file.write_text(self.token + "\n")
        self.outside = tmp / "outside"
        self.outside.mkdir()
        (self.outside / "secret.yaml").write_text(SECRET % self.token)
        self.logs = tmp / "logs"
        self.outputs = tmp / "outputs"
        self.outputs.mkdir()
        self.env = {**os.environ, "CFG_TOKEN": self.token, "HANDOFF_LOG_DIR": str(self.logs),
                    "GITHUB_OUTPUT": str(self.outputs / "github-output"),
                    "GITHUB_STEP_SUMMARY": str(self.outputs / "step-summary")}
        self.texts: dict[str, str] = {}

    def seed(self, name: str, files: dict[str, str], links: dict[str, str], at: Path) -> str:
        """A config repo with ``files`` and symlinks ``links`` (git keeps them as links), cloned at ``at``."""
        url = self.server.create_repo(name)
        at.mkdir(parents=True)
        for rel, content in files.items():
            (at / rel).parent.mkdir(parents=True, exist_ok=True)
            (at / rel).write_text(content)
        for rel, target in links.items():
            (at / rel).parent.mkdir(parents=True, exist_ok=True)
            (at / rel).symlink_to(target)
        git = [str(require_tool("git")), "-C", str(at), "-c", "user.name=t", "-c", "user.email=t@example"]
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "seed"],
                     ["push", "-q", str(self.server.bare_path(name)), "HEAD:refs/heads/main"]):
            subprocess.run([*git, *args], check=True, capture_output=True)
        return url

    def run(self, label: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "handoff", *argv], env=self.env, capture_output=True,
                              text=True, timeout=300, check=False)
        self.texts[f"{label} stdout"], self.texts[f"{label} stderr"] = done.stdout, done.stderr
        return done

    def collect_files(self) -> None:
        for root in (self.logs, self.outputs):
            for path in sorted(root.rglob("*")) if root.exists() else []:
                if path.is_file():
                    self.texts[f"file {path}"] = path.read_text(errors="replace")

    def assert_clean(self) -> None:
        self.collect_files()
        assert leaks(self.texts, [self.token]) == []


def branches(server: GitServer, name: str) -> list[str]:
    out = subprocess.run([str(require_tool("git")), "--git-dir", str(server.bare_path(name)), "for-each-ref",
                          "--format=%(refname:short)", "refs/heads"], check=True, capture_output=True, text=True)
    return out.stdout.split()


@pytest.mark.parametrize("name", ATTACKS)
def test_ci_refuses_and_leaks_nothing(name: str, git_server: GitServer, tmp_path: Path) -> None:
    world = World(git_server, tmp_path)
    planned = attack(name, world.token_file, world.outside)
    work = tmp_path / "cfg"
    url = world.seed("cfg", planned.files, planned.links, work)
    (tmp_path / "victim" / "private").mkdir(parents=True)  # the sibling (d) reaches for, next to ``cfg``
    (tmp_path / "victim" / "private" / "kustomization.yaml").write_text("resources: [secret.yaml]\n")
    (tmp_path / "victim" / "private" / "secret.yaml").write_text(SECRET % world.token)
    ci = ["--config-repo", url, "--forge", "local", "--token-env", "CFG_TOKEN",
          "--git-username", str(git_server.username)]
    runs = {
        "validate": world.run("validate", ["-vv", "validate", "--config-repo", str(work)]),
        "propose": world.run("propose", ["-vv", "propose", "--image", "registry.example/web:1.1.0", "--app", "web",
                                         "--env", "prod", *ci]),
        "promote": world.run("promote", ["-vv", "promote", "--app", "web", "--from", "staging", "--to", "prod",
                                         *ci]),
    }
    for label, done in runs.items():
        assert done.returncode != 0, f"{label} accepted the attack: {done.stdout}"
        assert re.search(planned.refusal, done.stdout + done.stderr), f"{label}: {done.stdout}{done.stderr}"
    assert branches(git_server, "cfg") == ["main"]  # no branch, hence no proposal body, was pushed
    world.texts["config repo history"] = subprocess.run(
        [str(require_tool("git")), "--git-dir", str(git_server.bare_path("cfg")), "log", "--all", "-p"],
        check=True, capture_output=True, text=True).stdout
    world.assert_clean()


def test_in_repo_links_keep_working_in_ci(git_server: GitServer, tmp_path: Path) -> None:
    """A chart whose values file and templates directory are symlinks inside the repo renders and is
    proposed as usual."""
    world = World(git_server, tmp_path)
    planned = attack("helm-file", world.token_file, world.outside)
    files = {k: v for k, v in planned.files.items() if k != "chart/templates/leak.yaml"}
    files["shared/templates/deployment.yaml"] = files.pop("chart/templates/deployment.yaml")
    files["shared/prod-values.yaml"] = files.pop("envs/prod/values.yaml")
    links = {"chart/templates": "../shared/templates", "envs/prod/values.yaml": "../../shared/prod-values.yaml"}
    url = world.seed("cfg", files, links, tmp_path / "cfg")
    assert world.run("validate", ["validate", "--config-repo", str(tmp_path / "cfg")]).returncode == 0
    proposed = world.run("propose", ["propose", "--image", "registry.example/web:1.1.0", "--app", "web",
                                     "--env", "prod", "--config-repo", url, "--forge", "local", "--token-env",
                                     "CFG_TOKEN", "--git-username", str(git_server.username)])
    assert proposed.returncode == 0, proposed.stdout + proposed.stderr
    assert "handoff/prod/web" in branches(git_server, "cfg")


@pytest.mark.parametrize("name", ATTACKS)
def test_reconciler_refuses_and_leaks_nothing(name: str, apiserver: Any, git_server: GitServer,
                                              tmp_path: Path) -> None:
    world = World(git_server, tmp_path)
    planned = attack(name, world.token_file, world.outside)
    attacker = world.seed("attacker", planned.files, planned.links, tmp_path / "seed-attacker")
    victim = world.seed("victim", {"app/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                                         "  name: victim-config\ndata: {mode: prod}\n",
                                   "private/kustomization.yaml": "resources: [secret.yaml]\n",
                                   "private/secret.yaml": SECRET % world.token}, {}, tmp_path / "seed-victim")
    client = connect(apiserver.kubeconfig)
    suffix = os.urandom(3).hex()
    control, target = f"paths-ctl-{suffix}", f"paths-app-{suffix}"
    for ns in (control, target):
        client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    credentials = {"tokenFile": str(world.token_file), "username": git_server.username}
    config = tmp_path / "reconciler.yaml"
    config.write_text(json.dumps({"namespace": control, "sources": [
        # the victim first, so its checkout sits next to the attacker's when the attacker renders
        {"name": "victim", "url": victim, "branch": "main", "path": "app", "namespace": target,
         "credentials": credentials},
        {"name": "attacker", "url": attacker, "branch": "main", "path": ".", "renderer": "env", "env": "prod",
         "namespace": target, "credentials": credentials},
    ]}))
    base = ["reconcile", "--config", str(config), "--kubeconfig", str(apiserver.kubeconfig),
            "--workdir", str(tmp_path / "work")]
    once = world.run("reconcile --once", ["-vv", *base, "--once"])
    assert once.returncode != 0
    assert re.search(planned.refusal, once.stdout + once.stderr), once.stdout + once.stderr
    assert (tmp_path / "work" / "victim" / "private" / "secret.yaml").is_file()  # (d) had its target
    world.texts["metrics"] = _served_metrics(world, base)
    assert 'handoff_reconcile_errors_total{kind="render",source="attacker"}' in world.texts["metrics"]

    names = {(o["kind"], o["metadata"]["name"]) for kind, api in (("ConfigMap", "v1"), ("Secret", "v1"),
                                                                    ("Deployment", "apps/v1"))
             for o in client.list(api, kind, namespace=target)}
    assert ("ConfigMap", "victim-config") in names  # the victim source is applied as usual
    assert not names & {("Deployment", "web"), ("ConfigMap", "leak"), ("Secret", "stolen")}
    for ns in (control, target):
        for api, kind in (("v1", "ConfigMap"), ("v1", "Event"), ("v1", "Secret"), ("apps/v1", "Deployment")):
            world.texts[f"{kind}s in {ns}"] = json.dumps(list(client.list(api, kind, namespace=ns)))
    assert "attacker" in world.texts[f"ConfigMaps in {control}"]  # the status object was written
    world.assert_clean()


def _served_metrics(world: World, base: list[str]) -> str:
    """/metrics of a long-running reconciler once the attacker's pass has failed."""
    port = free_port()
    served = subprocess.Popen([sys.executable, "-m", "handoff", *base, "--interval", "1s", "--metrics-addr",
                               f"127.0.0.1:{port}", "--no-leader-elect"], env=world.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        body = ""
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    body = str(r.read().decode())
                if 'handoff_reconcile_errors_total{kind="render",source="attacker"}' in body:
                    return body
            except OSError:
                pass
            assert time.monotonic() < deadline, f"no failed pass of the attacker in /metrics:\n{body}"
            time.sleep(0.5)
    finally:
        served.send_signal(signal.SIGTERM)
        out, err = served.communicate(timeout=60)
        world.texts["served stdout"], world.texts["served stderr"] = out, err


# --- the check itself, through the one render entry point (real helm and kustomize) ---------------

def tree(root: Path, files: dict[str, str], links: dict[str, str] | None = None) -> Path:
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    for rel, target in (links or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(target)
    return root


def refusal(repo: Path, path: str, **kw: Any) -> str:
    with pytest.raises(PathEscapeError) as e:
        render_path(repo / path, repo=repo, **kw)
    return str(e.value)


def test_in_repo_links_render(tmp_path: Path) -> None:
    """Links that stay inside the repo keep working: a chart's templates directory and values file,
    a kustomize resource and a ``../`` base, a plain manifest. (kustomize itself refuses a resource
    file linked from outside its kustomization's directory.)"""
    configmap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata: {mode: '{{ .Values.mode }}'}\n"
    repo = tree(tmp_path / "repo", {
        "chart/Chart.yaml": CHART, "shared/templates/cm.yaml": configmap % "chart-cm",
        "shared/values.yaml": "mode: linked\n",
        "base/kustomization.yaml": "resources: [cm.yaml]\n",
        "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: base-cm}\n",
        "overlay/files/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: overlay-cm}\n",
        "overlay/kustomization.yaml": "resources: [../base, cm.yaml]\n",
        "shared/plain.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain-cm}\n",
    }, {"chart/templates": "../shared/templates", "chart/values.yaml": "../shared/values.yaml",
        "overlay/cm.yaml": "files/cm.yaml", "plain/cm.yaml": "../shared/plain.yaml"})
    chart = render_path(repo / "chart", repo=repo, values=[repo / "chart" / "values.yaml"])
    assert [(o.ref.name, o.obj["data"]) for o in chart.objects] == [("chart-cm", {"mode": "linked"})]
    assert sorted(o.ref.name for o in render_path(repo / "overlay", repo=repo).objects) == ["base-cm", "overlay-cm"]
    assert [o.ref.name for o in render_path(repo / "plain", repo=repo).objects] == ["plain-cm"]


@pytest.mark.parametrize(("links", "named"), [
    ({"chart/templates": "/etc"}, "chart/templates -> /etc"),  # a linked directory
    ({"chart/sub": "../other", "other/key": "/etc/hostname"}, "chart/sub/key -> /etc/hostname"),  # via an in-repo dir
    ({"chart/charts/dep/.hidden": "/etc/hostname"}, "chart/charts/dep/.hidden -> /etc/hostname"),  # helm reads these
])
def test_chart_links_leaving_the_repo_are_refused(tmp_path: Path, links: dict[str, str], named: str) -> None:
    repo = tree(tmp_path / "repo", {"chart/Chart.yaml": CHART, "other/x.txt": "x\n"}, links)
    assert refusal(repo, "chart") == f"{named}: a symlink leaving the config repo"


def test_values_outside_the_repo_are_refused_without_a_link(tmp_path: Path) -> None:
    repo = tree(tmp_path / "repo", {"chart/Chart.yaml": CHART})
    tree(tmp_path, {"elsewhere.yaml": "a: 1\n"})
    message = refusal(repo, "chart", values=[repo / ".." / "elsewhere.yaml"])
    assert message == f"path '{tmp_path}/elsewhere.yaml' resolves outside the config repo"


@pytest.mark.parametrize(("kustomization", "where"), [
    ("resources:\n  - ../../x\n", "resources[0]"),
    ("bases: [../../x]\n", "bases[0]"),
    ("components:\n  - ../../x\n", "components[0]"),
    ("patches:\n  - path: ../../x/patch.yaml\n", "patches[0].path"),
    ("patchesStrategicMerge:\n  - ../../x/patch.yaml\n", "patchesStrategicMerge[0]"),
    ("configMapGenerator:\n  - name: c\n    files:\n      - env=../../x/env\n", "configMapGenerator[0].files[0]"),
    ("secretGenerator:\n  - name: s\n    envs: [../../x/env]\n", "secretGenerator[0].envs[0]"),
    ("replacements:\n  - path: ../../x/r.yaml\n", "replacements[0].path"),
])
def test_kustomize_paths_leaving_the_repo_are_refused(tmp_path: Path, kustomization: str, where: str) -> None:
    """Every key a kustomization reads files through: refused with the file, line and key."""
    repo = tree(tmp_path / "repo", {"app/kustomization.yaml": kustomization})
    line = next(i for i, text in enumerate(kustomization.splitlines(), start=1) if "../../x" in text)
    written = re.search(r"\.\./\.\./x[^\s\]]*", kustomization)
    assert written is not None
    entry = written.group(0).partition("=")[2] or written.group(0)
    assert refusal(repo, "app") == (f"app/kustomization.yaml:{line}: at {where}: path {entry!r} resolves "
                                    "outside the config repo")


def test_kustomize_links_leaving_the_repo_are_refused(tmp_path: Path) -> None:
    repo = tree(tmp_path / "repo", {
        "app/kustomization.yaml": "resources: [base]\n",
        "app/base/kustomization.yaml": "resources: [ok.yaml]\nconfigMapGenerator:\n  - name: c\n    files: [f=env]\n",
        "app/base/ok.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n"}, {"app/base/env": "/proc/self/environ"})
    assert refusal(repo, "app") == ("app/base/kustomization.yaml:4: at configMapGenerator[0].files[0]: "
                                    "app/base/env -> /proc/self/environ: a symlink leaving the config repo")


def test_plain_links_leaving_the_tree_are_refused(tmp_path: Path) -> None:
    repo = tree(tmp_path / "repo", {"app/ok.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n"},
                {"app/nested/secret.yaml": str(tmp_path / "secret.yaml")})
    (tmp_path / "secret.yaml").write_text(SECRET % ("x" * 20))
    assert refusal(repo, "app") == f"app/nested/secret.yaml -> {tmp_path}/secret.yaml: a symlink leaving the config repo"
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), str(repo / "app")],
                          capture_output=True, text=True, check=False)
    assert done.returncode != 0 and "app/nested/secret.yaml -> " in done.stderr, done.stdout + done.stderr


def test_a_path_outside_the_repo_is_its_own_root(tmp_path: Path) -> None:
    """``handoff validate /elsewhere/x``: the operator named the tree, which may link only inside itself."""
    elsewhere = tree(tmp_path / "elsewhere", {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"},
                     {"linked.yaml": "cm.yaml"})
    assert [o.ref.name for o in render_path(elsewhere, repo=tmp_path / "repo").objects] == ["a", "a"]
    (elsewhere / "out.yaml").symlink_to(tmp_path / "repo")
    with pytest.raises(PathEscapeError, match=r"^out\.yaml -> "):
        render_path(elsewhere, repo=tmp_path / "repo")


def test_crd_catalogs_stay_inside_themselves(tmp_path: Path) -> None:
    catalog = tree(tmp_path / "catalog", {"example.com/widget_v1.json": '{"type": "object"}'},
                   {"example.com/gadget_v1.json": "/etc/hostname"})
    with pytest.raises(PathEscapeError, match=r"example\.com/gadget_v1\.json -> /etc/hostname: a symlink leaving "
                                              r"the CRD catalog"):
        check_catalogs([catalog])
    (tmp_path / "x_v1.json").write_text('{"leaked": true}')
    with pytest.raises(PathEscapeError, match="resolves outside the CRD catalog"):
        load_catalog_schema([catalog], "../v1", "X")  # apiVersion comes from the repo: catalog/../x_v1.json
    assert load_catalog_schema([catalog], "example.com/v1", "Widget") == {"type": "object"}
