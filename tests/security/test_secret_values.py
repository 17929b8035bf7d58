"""Secret values are never printed. A Helm chart (real helm) stamps a password into a ``Secret``'s
``stringData`` and ``data`` and into a ConfigMap field the config declares sensitive; ``handoff propose``
(local forge: the proposal body files pushed to the harness git server), ``handoff validate`` in every
output format (both engines), ``handoff plan`` and ``handoff reconcile --once`` against the harness
kube-apiserver must show the key and a short hash, never the value in any encoding. Redaction
(``handoff.redact``) knows nothing of these values: what keeps them out is the masking itself.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from handoff.cli import main
from handoff.config import parse_config_text
from handoff.errors import ConfigError
from handoff.manifests.canonical import canonical_yaml
from handoff.manifests.model import RenderedObject
from handoff.manifests.sensitive import SensitiveField, excerpt, rules_for
from handoff.reconciler.config import load_settings
from handoff.reconciler.drift import Drift, DriftedField
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.status import PassResult, status_data
from handoff.report.model import ObjectRef
from handoff.validate import validate_objects
from handoff.validate.engine import SchemaOptions
from handoff.workflows.propose import rendered_diff
from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool
from tests.propose.helpers import propose_on, show
from tests.reconciler.cluster import new_cluster
from tests.security.leaks import leaks

PASSWORD = "Tr0ub4dor&3-kept-secret"
PIN = "48151623"  # stamped as a number where a string belongs: a schema finding on a Secret value
OUTPUTS = ("text", "json", "junit", "sarif", "markdown", "github")
MAX_QUOTED = 40


CONFIG = """\
environments:
  dev:
    render: {type: helm, path: chart, values: [envs/dev/values.yaml, envs/dev/secrets.yaml], release: web}
apps:
  web:
    image: registry.example/web
    targets:
      - type: marker
        path: envs/dev/values.yaml
sensitive:
  - {kind: ConfigMap, path: data.password}
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
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
"""
# the stamped password carries the image, so a bump changes the Secret (the diff must say so)
SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: web-credentials
stringData:
  password: "{{ .Values.password }}@{{ .Values.image }}"
data:
  token: {{ .Values.password | b64enc }}
{{- with .Values.pin }}
  pin: {{ . }}
{{- end }}
"""
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-settings
data:
  mode: prod
  password: "{{ .Values.password }}@{{ .Values.image }}"
"""


def chart_files(*, pin: bool = False) -> dict[str, str]:
    secrets = f'password: "{PASSWORD}"\n' + (f"pin: {PIN}\n" if pin else "")
    return {
        ".handoff.yaml": CONFIG,
        "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        "chart/values.yaml": "image: registry.example/web:0.0.1\npassword: ''\n",
        "chart/templates/deployment.yaml": DEPLOYMENT,
        "chart/templates/secret.yaml": SECRET,
        "chart/templates/configmap.yaml": CONFIGMAP,
        "envs/dev/values.yaml": "image: registry.example/web:1.0.0 # handoff:image web\n",
        "envs/dev/secrets.yaml": secrets,
    }


def stamped(tag: str) -> str:
    return f"{PASSWORD}@registry.example/web:{tag}"


def write_repo(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


# ---- the masking itself, without tools --------------------------------------------------------------

def _secret(**string_data: Any) -> RenderedObject:
    return RenderedObject({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "n"},
                           "stringData": string_data}, "secret.yaml", 1)


def test_rendered_diff_names_the_key_and_says_how_it_moved() -> None:
    before = [_secret(password=PASSWORD, same="unchanged-value", gone="removed-value")]
    after = [_secret(password=PASSWORD + "2", same="unchanged-value", new="added-value")]
    diff = rendered_diff(before, after, "dev")
    assert leaks({"diff": diff}, [PASSWORD, "unchanged-value", "removed-value", "added-value"]) == []
    plus = [line for line in diff.splitlines() if line.startswith("+  ")]
    minus = [line for line in diff.splitlines() if line.startswith("-  ")]
    assert any(line.startswith("+  password: <secret sha256:") and line.endswith(" changed>") for line in plus)
    assert any(line.startswith("+  new: <secret sha256:") and line.endswith(" added>") for line in plus)
    assert any(line.startswith("-  gone: <secret sha256:") and line.endswith(" removed>") for line in minus)
    assert "same: <secret sha256:" in diff and not any("same:" in line for line in plus + minus)
    assert rendered_diff(before, before, "dev") == "_The rendered manifests do not change._"


def test_equal_values_in_two_secrets_do_not_look_alike() -> None:
    """The hash covers the object and key, so it cannot be matched against other Secrets' hashes."""
    one = canonical_yaml([_secret(password=PASSWORD)])
    other = canonical_yaml([RenderedObject({**_secret(password=PASSWORD).obj,
                                            "metadata": {"name": "t", "namespace": "n"}}, "t.yaml", 1)])
    assert one.split("password: ")[1].split("\n")[0] != other.split("password: ")[1].split("\n")[0]


@pytest.mark.parametrize("engine", ["builtin", "kubeconform"])
def test_schema_findings_quote_no_secret_and_at_most_a_bounded_excerpt(engine: str) -> None:
    if engine == "kubeconform":
        require_tool("kubeconform")
    long_value = "x" * 200
    secret = RenderedObject({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                             "stringData": {"pin": int(PIN)}, "data": {"blob": {"nested": PASSWORD}}}, "s.yaml", 1)
    config_map = RenderedObject({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                 "data": {"password": int(PIN), "plain": 12345}}, "c.yaml", 1)
    deployment = RenderedObject({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                                 "spec": {"replicas": long_value, "selector": {}, "template": {}}}, "d.yaml", 1)
    options = SchemaOptions(sensitive=rules_for([SensitiveField("ConfigMap", "data.password")]))
    report = validate_objects([secret, config_map, deployment], schema_options=options, engine=engine)
    messages = {f"{f.object} {f.path}": f.message for f in report.findings}
    assert any(p.endswith("stringData.pin") for p in messages), messages
    assert any(p.endswith("data.password") for p in messages), messages
    assert leaks(messages, [PIN, PASSWORD]) == [], messages
    assert long_value[:MAX_QUOTED + 1] not in json.dumps(messages)
    if engine == "builtin":  # jsonschema's messages quote the instance: now masked or bounded
        assert "<secret sha256:" in messages["Secret/s stringData.pin"]
        assert "12345" in messages["ConfigMap/c data.plain"]  # not sensitive: quoted as it is
        assert excerpt(long_value) in messages["Deployment/d spec.replicas"]


def test_status_drift_of_a_secret_shows_no_value() -> None:
    ref = ObjectRef("v1", "Secret", "s", "n")
    drift = (Drift(ref, (DriftedField("data.password", "kubectl-edit", PASSWORD, "desired-" + PASSWORD),
                         DriftedField("metadata.labels.team", "kubectl-edit", "blue", "red"))),)
    data = status_data(PassResult(source="s", result="Succeeded", drift=drift))
    assert leaks(data, [PASSWORD]) == []
    fields = json.loads(data["drift"])["objects"][0]["fields"]
    assert fields[0]["live"].startswith("<secret sha256:") and fields[1]["live"] == "blue"


# ---- must show: real helm, the git server, the CLI ---------------------------------------------------

@pytest.mark.tools
def test_propose_pushes_no_secret_value_and_shows_the_key_changed(git_server: GitServer) -> None:
    require_tool("helm")
    url = git_server.create_repo("secrets", chart_files())
    result = propose_on(git_server, url, "registry.example/web:1.1.0", on_invalid="comment")
    assert result.operation == "created", result.message
    bodies = {name: show(git_server, "secrets", "handoff/dev/web", f".handoff/proposals/dev-web.{name}")
              for name in ("md", "json")}
    bodies["result body"] = result.body
    assert leaks(bodies, [PASSWORD, stamped("1.0.0"), stamped("1.1.0")]) == []
    body = bodies["md"]
    assert "+  password: <secret sha256:" in body and "changed>" in body  # the Secret and the ConfigMap
    assert body.count("changed>") == 2
    assert "token:" not in body  # unchanged: not part of the diff
    assert "+      - image: registry.example/web:1.1.0" in body  # the diff itself is still there


@pytest.mark.tools
@pytest.mark.parametrize("engine", ["builtin", "kubeconform"])
def test_validate_and_plan_outputs_carry_no_secret_value(engine: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    require_tool("helm")
    if engine == "kubeconform":
        require_tool("kubeconform")
    repo = write_repo(tmp_path / "repo", chart_files(pin=True))
    texts: dict[str, str] = {}
    for output in OUTPUTS:
        code = main(["validate", "--config-repo", str(repo), "--engine", engine, "--output", output])
        captured = capsys.readouterr()
        assert code == 1, captured.err  # the pin is a number where a string belongs
        texts[f"validate {output}"], texts[f"validate {output} stderr"] = captured.out, captured.err
    for output in ("text", "json", "markdown"):
        main(["plan", "--env", "dev", "--config-repo", str(repo), "--output", output])
        captured = capsys.readouterr()
        texts[f"plan {output}"], texts[f"plan {output} stderr"] = captured.out, captured.err
    assert "web-credentials" in texts["validate json"] and "data.pin" in texts["validate json"]
    assert leaks(texts, [PASSWORD, PIN, stamped("1.0.0")]) == []


@pytest.mark.tools
@pytest.mark.slow
def test_reconcile_once_applies_a_secret_and_reports_no_value(apiserver: Any, git_server: GitServer,
                                                              tmp_path: Path) -> None:
    """A Secret applied by ``reconcile --once``, then a revision whose sibling the API server rejects:
    the status ConfigMap, Events, logs and output never carry the value."""
    require_tool("helm")
    cluster = new_cluster(apiserver, git_server, tmp_path, chart_files())
    env = {**os.environ, "HANDOFF_LOG_DIR": str(tmp_path / "logs")}
    argv = ["reconcile", "--once", "--kubeconfig", str(apiserver.kubeconfig), "--repo", cluster.url,
            "--revision", "main", "--path", ".", "--renderer", "env", "--env", "dev", "--name", "secrets",
            "--target-namespace", cluster.target_ns, "--namespace", cluster.control_ns,
            "--token-file", str(cluster.token_file), "--git-username", cluster.username,
            "--workdir", str(tmp_path / "work")]
    texts: dict[str, str] = {}
    first = _run(argv, env)
    texts["first stdout"], texts["first stderr"] = first.stdout, first.stderr
    assert first.returncode == 0, first.stdout + first.stderr
    live = cluster.client.get("v1", "Secret", "web-credentials", cluster.target_ns)
    assert live is not None
    assert base64.b64decode(live["data"]["password"]).decode() == stamped("1.0.0")  # it was applied
    # a Secret the API server rejects (a data value that is not base64) beside a sibling it rejects
    cluster.repo.commit({"envs/dev/secrets.yaml": f'password: "{PASSWORD}"\nbad: "{PASSWORD}"\n',
                         "chart/templates/broken.yaml": BROKEN_SECRET})
    failing = _run(argv, env)
    texts["failing stdout"], texts["failing stderr"] = failing.stdout, failing.stderr
    assert failing.returncode == 1
    # the status and inventory ConfigMaps, and Events wherever they went (the target namespace's
    # ConfigMap is the applied object itself: it holds the value by the repo's design)
    texts["ConfigMaps"] = json.dumps(list(cluster.client.list("v1", "ConfigMap", namespace=cluster.control_ns)))
    assert "handoff-status-secrets" in texts["ConfigMaps"]
    for ns in (cluster.control_ns, cluster.target_ns):
        texts[f"Events in {ns}"] = json.dumps(list(cluster.client.list("v1", "Event", namespace=ns)))
    assert "ReconcileFailed" in texts[f"Events in {cluster.control_ns}"]
    for path in sorted((tmp_path / "logs").rglob("*")):
        if path.is_file():
            texts[f"log {path.name}"] = path.read_text(errors="replace")
    assert 'Secret "web-broken" is invalid' in texts["failing stdout"]  # the API server's own words
    metrics = Metrics()  # the same failing revision, in-process, for /metrics and the library's result
    library = Reconciler(cluster.settings(renderer="env", env="dev", path="."), cluster.client, cluster.workdir,
                         metrics=metrics)
    texts["library result"] = library.reconcile(library.settings.sources[0]).message
    texts["metrics"] = metrics.exposition().decode()
    assert "handoff_reconcile_errors_total" in texts["metrics"]
    assert leaks(texts, [PASSWORD, stamped("1.0.0")]) == []


# the API server echoes an invalid label value in its error: here, the password
BROKEN_SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: web-broken
  labels:
    echo: "{{ .Values.bad }}"
stringData:
  password: "{{ .Values.bad }}"
"""


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "handoff", *argv], env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_sensitive_fields_are_declared_in_both_configs(tmp_path: Path) -> None:
    config = parse_config_text("sensitive:\n  - {kind: ConfigMap, path: data.password}\n")
    assert config.sensitive == (SensitiveField("ConfigMap", "data.password"),)
    with pytest.raises(ConfigError, match=r"\.handoff\.yaml:2: at sensitive\[0\]"):
        parse_config_text("sensitive:\n  - {kind: ConfigMap}\n")
    reconciler = tmp_path / "reconciler.yaml"
    reconciler.write_text("sensitive: [{kind: ConfigMap, path: data.password}]\n"
                          "sources: [{name: s, url: 'https://git.example/c.git'}]\n")
    settings = load_settings(reconciler)
    assert settings.sensitive == (SensitiveField("ConfigMap", "data.password"),)
    ref = ObjectRef("v1", "ConfigMap", "c", "n")
    drift = (Drift(ref, (DriftedField("data.password", "kubectl-edit", PASSWORD, "other"),)),)
    data = status_data(PassResult(source="s", result="Succeeded", drift=drift), rules=rules_for(settings.sensitive))
    assert leaks(data, [PASSWORD]) == []


QUOTING_POLICY = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: short-passwords}
spec:
  matchConstraints:
    resourceRules:
      - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["secrets"]}
  validations:
    - expression: "size(object.stringData.password) < 8"
      messageExpression: "'password ' + object.stringData.password + ' is too long'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: short-passwords}
spec: {policyName: short-passwords, validationActions: [Deny]}
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_policy_message_quoting_a_secret_value_is_masked(jobs: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A policy (from the repo) that prints a Secret's value: masked in the single-process run and in
    the worker processes that check big plain trees."""
    repo = write_repo(tmp_path / "repo", {"policy/p.yaml": QUOTING_POLICY, **{
        f"manifests/s{i}.yaml": f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s{i}\n"
                                f"stringData:\n  password: {PASSWORD}-{i}\n" for i in range(3)}})
    code = main(["validate", "--plain", "--config-repo", str(repo), "--policies", str(repo / "policy"),
                 "--jobs", jobs, "--output", "json", str(repo / "manifests")])
    out = capsys.readouterr().out
    assert code == 1
    messages = [f["message"] for f in json.loads(out)["findings"] if f["rule"] == "short-passwords"]
    assert len(messages) == 3 and all("<secret sha256:" in m and m.endswith("is too long") for m in messages)
    assert leaks({"validate": out}, [PASSWORD, *(f"{PASSWORD}-{i}" for i in range(3))]) == []


def test_keys_with_dots_are_masked_and_can_be_declared() -> None:
    """``tls.crt`` is a Secret key, not a path; ``\\.`` declares a dot inside a key."""
    rules = rules_for([SensitiveField("ConfigMap", r"data.application\.properties")])
    tls = RenderedObject({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls"},
                          "data": {"tls.crt": base64.b64encode(PASSWORD.encode()).decode()}}, "tls.yaml", 1)
    props = RenderedObject({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app"},
                            "data": {"application.properties": f"db.password={PASSWORD}", "mode": "prod"}},
                           "app.yaml", 1)
    shown = canonical_yaml([tls, props], rules)
    assert leaks({"canonical": shown}, [PASSWORD, f"db.password={PASSWORD}"]) == []
    assert "tls.crt: <secret sha256:" in shown and "application.properties: <secret sha256:" in shown
    assert "mode: prod" in shown
    drift = (Drift(ObjectRef("v1", "ConfigMap", "app", "n"),
                   (DriftedField("data.application.properties", "kubectl-edit", PASSWORD, "x"),)),)
    assert leaks(status_data(PassResult(source="s", result="Succeeded", drift=drift), rules=rules),
                 [PASSWORD]) == []


HELM_FAILURES = {
    "fail": '{{ fail .Values.password }}\n',
    "fail-b64": '{{ fail (.Values.password | b64enc) }}\n',
    "fail-b32": '{{ fail (.Values.password | b32enc) }}\n',
    "required": 'x: {{ required (printf "bad %s" .Values.password) .Values.missing }}\n',
    "include-error": 'x: {{ include .Values.password . }}\n',  # helm quotes the missing template's name
}


@pytest.mark.parametrize("how", sorted(HELM_FAILURES))
def test_a_failing_helm_template_quoting_a_value_leaks_it_nowhere(tmp_path: Path, how: str) -> None:
    require_tool("helm")
    secret = "HelmFailSecret4242xyz"
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: failing\nversion: 0.1.0\n", encoding="utf-8")
    (chart / "values.yaml").write_text(f"password: {secret}\n", encoding="utf-8")
    (chart / "templates" / "secret.yaml").write_text(HELM_FAILURES[how], encoding="utf-8")
    (tmp_path / ".handoff.yaml").write_text("environments:\n  dev: {render: {type: helm, path: chart}}\n",
                                            encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(tmp_path),
                           "--env", "dev", "--output", "json"], capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode != 0
    assert leaks({"stdout": done.stdout, "stderr": done.stderr}, [secret]) == []
    assert "helm template" in done.stdout + done.stderr
