import json
from importlib import resources
from pathlib import Path

import pytest

from handoff.cli import main
from handoff.errors import ConfigError
from handoff.kube.client import load_kubeconfig
from handoff.reconciler.config import load_settings, parse_duration


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reconciler.yaml"
    path.write_text(text)
    return path


def test_sources_with_defaults_and_guards(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, """
namespace: gitops
defaults: {interval: 2m, namespace: apps}
prune: {maxFraction: 0.25, minInventory: 4, namespaces: true}
sharding: {shards: 3, shard: 1}
sources:
  - name: web
    url: https://git.example/config.git
    tag: v1.2.0
    path: envs/prod
    drift: warn
    credentials: {tokenFile: /etc/handoff/git/token}
    verify: {mode: ssh, allowedSigners: /etc/handoff/signers}
  - name: api
    url: https://git.example/config.git
    prune: false
"""))
    web, api = settings.sources
    assert (web.revision, web.path, web.interval, web.namespace, web.drift_mode) == (
        "v1.2.0", "envs/prod", 120.0, "apps", "warn")
    assert web.credentials.token_file == "/etc/handoff/git/token"
    assert web.verify.mode == "ssh" and web.verify.allowed_signers == "/etc/handoff/signers"
    assert api.revision == "main" and api.prune is False
    assert settings.prune.max_fraction == 0.25 and settings.prune.allow_namespaces
    assert (settings.namespace, settings.shards, settings.shard) == ("gitops", 3, 1)


def test_unknown_key_names_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  - name: web\n    url: u\n    brnach: main\n")
    with pytest.raises(ConfigError) as e:
        load_settings(path)
    assert str(e.value).startswith(f"{path}:4: at sources[0].brnach: unknown key 'brnach'")


def test_two_revisions_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  - name: web\n    url: u\n    branch: main\n    tag: v1\n")
    with pytest.raises(ConfigError, match=r"give only one of branch, tag, commit"):
        load_settings(path)


def test_duplicate_source_names_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  - {name: a, url: https://g/u}\n  - {name: a, url: https://g/v}\n")
    with pytest.raises(ConfigError, match="duplicate source names: a"):
        load_settings(path)


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30.0), ("5m", 300.0), ("1h", 3600.0), ("500ms", 0.5),
                                               (45, 45.0)])
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_bad_duration() -> None:
    with pytest.raises(ConfigError, match="invalid duration 'soon'"):
        parse_duration("soon")


def test_a_wrong_type_is_a_config_error_naming_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  - name: web\n    url: u\nprune:\n  maxFraction: lots\n")
    with pytest.raises(ConfigError) as e:
        load_settings(path)
    assert e.value.exit_code == 2
    assert str(e.value).startswith(f"{path}:5: at prune.maxFraction: 'lots' is not of type 'number'")


def test_a_source_field_of_the_wrong_shape_names_the_source(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  - name: web\n    url: u\n    prune:\n      maxFraction: lots\n")
    with pytest.raises(ConfigError) as e:
        load_settings(path)
    assert str(e.value).startswith(f"{path}:4: at sources[0].prune: ")


@pytest.mark.parametrize(("text", "where"), [
    ("sources: []\n", "at sources: "),
    ("sources:\n  - {name: a, url: u, drift: ignore}\n", ":2: at sources[0].drift: "),
    ("sources:\n  - {name: a, url: u}\nsharding: {shards: 0}\n", ":3: at sharding.shards: "),
    ("sources:\n  - {name: a, url: u}\nleaderelection: false\n", ":3: at leaderelection: unknown key"),
    ("sources:\n  - {name: a, url: u, tag: 1.10}\n", ":2: at sources[0].tag: 1.1 is not of type 'string'"),
])
def test_the_shipped_schema_checks_every_part(tmp_path: Path, text: str, where: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, text))
    assert where in str(e.value)


def test_the_schema_ships_with_the_package() -> None:
    schema = json.loads(resources.files("handoff").joinpath("schemas/reconciler-config.schema.json").read_text())
    assert schema["required"] == ["sources"]


def test_a_bad_config_is_parsed_once_and_bounded(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(7))
    with pytest.raises(ConfigError, match="alias bomb"):
        load_settings(write(tmp_path, bomb + "sources:\n  - {name: a, url: u}\n"))


def test_a_kubeconfig_is_read_through_the_bounded_yaml_stack(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(7)))
    with pytest.raises(ConfigError, match=r"kubeconfig.*alias bomb"):
        load_kubeconfig(path)
    path.write_text("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
                    "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:6443'}}]\n")
    assert load_kubeconfig(path).server == "https://127.0.0.1:6443"


_OK = "  - {name: web, url: https://git.example/config.git}\n"


@pytest.mark.parametrize(("text", "where"), [
    ("", ":1: the reconciler config is empty"),
    ("# only a comment\n", ":1: the reconciler config is empty"),
    ("- a\n- b\n", ":1: ['a', 'b'] is not of type 'object'"),
    ("sources: [web]\n", ":1: at sources[0]: 'web' is not of type 'object'"),
    ("sources: [null]\n", ":1: at sources[0]: None is not of type 'object'"),
    ("sources:\n  - {name: 123, url: https://g/x}\n", ":2: at sources[0].name: 123 is not of type 'string'"),
    ("sources:\n  - {name: web, url: 5}\n", ":2: at sources[0].url: 5 is not of type 'string'"),
    ("sources:\n  - {name: web, url: 'not a url'}\n", ":2: at sources[0].url: git url 'not a url' is not"),
    ("sources:\n  - {name: web, url: 'ftp://g/x'}\n", ":2: at sources[0].url: git url 'ftp://g/x' is not"),
    ("sources:\n  - {name: web, url: \"https://g/x\\n--upload-pack=touch /tmp/p\"}\n", ":2: at sources[0].url: "),
    ("sources:\n  - {name: web, url: https://g/x, interval: -5}\n", ":2: at sources[0].interval: "),
    ("sources:\n  - {name: web, url: https://g/x, interval: 0}\n",
     ":2: at sources[0].interval: duration 0 is outside 100ms to 30 days"),
    ("sources:\n  - {name: web, url: https://g/x, interval: .nan}\n", ":2: at sources[0].interval: duration nan"),
    ("sources:\n  - {name: web, url: https://g/x, interval: .inf}\n", ":2: at sources[0].interval: duration inf"),
    ("sources:\n  - {name: web, url: https://g/x, interval: " + "9" * 400 + "h}\n",
     ":2: at sources[0].interval: duration 9999"),
    ("sources:\n  - {name: web, url: https://g/x, interval: " + "9" * 40 + "}\n", ":2: at sources[0].interval: "),
    ("defaults:\n  interval: 0s\nsources:\n" + _OK, ":2: at defaults.interval: duration 0s is outside"),
    ("prune:\n  maxFraction: .nan\nsources:\n" + _OK, ":2: at prune.maxFraction: maxFraction must be a number"),
    ("prune:\n  minInventory: 1e30\nsources:\n" + _OK, ":2: at prune.minInventory: "),
    ("prune:\n  minInventory: " + "9" * 400 + "\nsources:\n" + _OK, ":2: at prune.minInventory: "),
    ("sharding:\n  shards: " + "9" * 40 + "\nsources:\n" + _OK, ":2: at sharding.shards: "),
    ("sharding:\n  shards: 2\n  shard: 5\nsources:\n" + _OK, ":3: at sharding.shard: shard 5 does not exist"),
    ("namespace: 'Bad NS'\nsources:\n" + _OK, ":1: at namespace: namespace 'Bad NS' is not a DNS label"),
    ("leaseName: 'Bad_Lease!'\nsources:\n" + _OK, ":1: at leaseName: leaseName 'Bad_Lease!' is not"),
    ("metricsAddr: nonsense\nsources:\n" + _OK, ":1: at metricsAddr: invalid --metrics-addr 'nonsense'"),
    ("metricsAddr: ':99999'\nsources:\n" + _OK, ":1: at metricsAddr: invalid --metrics-addr ':99999'"),
    ("sources:\n  - {name: web, url: https://g/x, renderer: helm, release: 'Bad Release!'}\n",
     ":2: at sources[0].release: release 'Bad Release!' is not a Helm release name"),
    ("sources:\n  - {name: web, url: https://g/x}\n  - {name: api, url: https://g/y}\n  - {name: web, url: https://g/z}\n",
     ":4: at sources[2].name: duplicate source names: web"),
    ("1: x\nsources:\n" + _OK, ":1: at 1: unknown key '1'"),
])
def test_a_hostile_config_is_exit_2_naming_file_line_and_key(tmp_path: Path, text: str, where: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Wrong types, unknown keys, huge or negative numbers, NaN, bad URLs and names, duplicate sources:
    each is a usage error at its file, line and key, before the reconciler contacts anything."""
    path = write(tmp_path, text)
    assert main(["reconcile", "--config", str(path), "--once", "--kubeconfig", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert f"{path}{where}" in err and "unexpected error" not in err


@pytest.mark.parametrize("url", ["https://git.example/c.git", "http://127.0.0.1:8080/c.git", "ssh://host/c.git",
                                 "git://host/c.git", "file:///srv/git/c.git", "git@github.com:org/c.git"])
def test_every_kind_of_git_url_is_accepted(tmp_path: Path, url: str) -> None:
    assert load_settings(write(tmp_path, f"sources:\n  - {{name: web, url: '{url}'}}\n")).sources[0].url == url


def test_the_policy_floor_is_read_from_the_reconciler_config(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, """
policyFloor:
  policies: [disallow-privileged, disallow-host-path]
  waivers:
    - {policy: disallow-host-path, match: {namespace: monitoring, kind: DaemonSet}, reason: node exporter}
sources:
  - {name: web, url: https://git.example/config.git}
"""))
    floor = settings.policy_floor
    assert floor.builtin and floor.policies == ("disallow-privileged", "disallow-host-path")
    assert [(w.policy, dict(w.match), w.reason) for w in floor.waivers] == [
        ("disallow-host-path", {"namespace": "monitoring", "kind": "DaemonSet"}, "node exporter")]
    assert load_settings(write(tmp_path, "sources:\n  - {name: a, url: https://x/y.git}\n")).policy_floor.policies \
        == ("*",)
    with pytest.raises(ConfigError, match="reason"):
        load_settings(write(tmp_path, "policyFloor: {waivers: [{policy: x}]}\nsources:\n"
                                      "  - {name: a, url: https://x/y.git}\n"))


def test_a_sources_authority_is_read_from_the_reconciler_config(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, """
sources:
  - name: team-a
    url: https://git.example/config.git
    authority: {namespaces: [team-a], deniedKinds: [Secret], clusterKinds: []}
    serviceAccount: team-a/deployer
  - {name: open, url: https://git.example/config.git}
"""))
    assert settings.sources[0].service_account == "team-a/deployer"
    team, unrestricted = settings.sources
    assert team.authority is not None and team.authority.namespaces == ("team-a",)
    assert team.authority.denied_kinds == ("Secret",) and team.authority.cluster_kinds == ()
    assert team.authority.kinds == ("*",) and unrestricted.authority is None
