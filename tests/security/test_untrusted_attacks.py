"""Attacks on issue 13's guarantees built by a hostile config-repo author, each against the real
kustomize: a guarantee that broke is a test here, fixed or marked ``xfail(strict=True)``.

Parser differential: a kustomization nested deeper than handoff's YAML depth bound (inside
``helmCharts[].valuesInline``, the one field kustomize's strict schema leaves free-form) was not
parsed by the remote scan, which then skipped the file, and kustomize fetched the ``resources`` URL:
the test HTTP server on 127.0.0.1 received the request. The scan now fails closed.

Built-in plugin configs: a ``PatchTransformer``/``PatchJson6902Transformer`` ``path``, or a
``ConfigMapGenerator`` ``files`` entry, in a ``transformers``/``generators`` file, inline entry or plugin
directory, named an http URL that kustomize fetched, and the render succeeded with the fetched
content (what no signed commit covers). The remote scan now reads those configs too.

Memory: the caps bounded bytes and objects, not parse cost. A 12.9 MB manifest of one ConfigMap with
1,000,000 one-letter keys was under every byte cap and peaked near 355 MiB RSS in handoff. Every text a
render parses is now charged to a node budget before it is parsed (``bounds.written_nodes``): refused at
once. A helm child making the same output peaked near 460 MiB: the runner now kills it at the child
memory cap (test_child_memory.py).

Nested Lists: a ``v1/List`` inside a ``v1/List`` was expanded one level only, so the inner List was
one object and its Secret's ``stringData`` showed verbatim in the rendered diff (plain and helm
alike). Lists are now flattened recursively, as kubectl's builder does.

Policy directories: ``policies.dirs`` in ``.handoff.yaml`` was joined to the repo unchecked, so a link
``policy/o.rego -> /outside/x.rego`` (or ``dirs: [../elsewhere]``) had ``handoff validate`` read and
apply a file outside the repo. Config policy dirs now go through ``resolve_inside`` and ``check_tree``.

The config itself: ``.handoff.yaml -> /etc/handoff/git/token`` was parsed, and the schema error quoted
the token (``'ghp_…' is not of type 'object'``) on stderr, in CI logs and, through the reconciler
(which loads the checkout's config the same way), in status. ``load_config`` now refuses the link.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handoff.errors import HandoffError
from handoff.manifests.bounds import RenderLimits
from handoff.manifests.canonical import canonical_yaml
from handoff.render import RenderPolicy, render_path, render_policy
from tests.harness.tools import require_tool

pytestmark = [pytest.mark.tools]


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        body = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fetched}\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    handler = type("Handler", (_Counting,), {"hits": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler.hits
    finally:
        httpd.shutdown()
        httpd.server_close()


def _kustomization(tmp_path: Path, text: str) -> Path:
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
                                      encoding="utf-8")
    (tmp_path / "kustomization.yaml").write_text(text, encoding="utf-8")
    return tmp_path


DEEP = "{a: " * 101 + "1" + "}" * 101
SHAPES = {
    "deeper-than-the-scan-parses": "resources:\n- %(url)s/deep.yaml\nhelmCharts:\n- name: c\n"
                                   f"  valuesInline: {DEEP}\n",
    "uppercase-scheme": "resources:\n- HTTP://%(host)s/upper.yaml\n",
    "tab-in-flow-list": "resources: [\t%(url)s/tab.yaml]\n",
    "byte-order-mark": "\ufeffresources:\n- %(url)s/bom.yaml\n",
    "json-form": '{"resources": ["%(url)s/json.yaml"]}\n',
    "escaped-in-quotes": 'resources:\n- "ht\\x74p://%(host)s/escaped.yaml"\n',
    "merge-key-alias": "base: &b\n  - %(url)s/merge.yaml\n<<: {resources: *b}\n",
    "duplicate-key-last-wins": "resources:\n- cm.yaml\nresources:\n- %(url)s/dup.yaml\n",
    "file-scheme": "resources:\n- file:///etc/hostname\n",
    "scheme-relative": "resources:\n- //%(host)s/scheme-relative.yaml\n",
    "git-file": "resources:\n- git::file:///tmp/repo//base\n",
    "ipv6-literal": "resources:\n- http://[::1]:9/v6.yaml\n",
    "ssh": "resources:\n- ssh://git@%(host)s/org/repo\n",
    "flow-with-comment": "resources: [cm.yaml, # a comment\n  '%(url)s/flow.yaml']\n",
    "component-url": "components:\n- %(url)s/component\n",
    "openapi-path": "resources: [cm.yaml]\nopenapi: {path: '%(url)s/openapi.json'}\n",
    "patch-path": "resources: [cm.yaml]\npatches:\n- path: %(url)s/patch.yaml\n",
    "replacement-path": "resources: [cm.yaml]\nreplacements:\n- path: %(url)s/r.yaml\n",
    "configurations": "resources: [cm.yaml]\nconfigurations: ['%(url)s/c.yaml']\n",
    "crds": "resources: [cm.yaml]\ncrds: ['%(url)s/crd.json']\n",
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_no_kustomization_shape_reaches_the_network(tmp_path: Path, server: tuple[str, list[str]],
                                                    shape: str) -> None:
    require_tool("kustomize")
    url, hits = server
    directory = _kustomization(tmp_path, SHAPES[shape] % {"url": url, "host": url.removeprefix("http://")})
    with pytest.raises(HandoffError) as refused:
        render_path(directory, repo=directory, kind="kustomize")
    assert hits == [], f"{shape}: kustomize fetched {hits}"
    assert "kustomization.yaml" in str(refused.value)


def test_an_unreadable_kustomization_is_refused_before_kustomize_runs(tmp_path: Path,
                                                                      server: tuple[str, list[str]]) -> None:
    require_tool("kustomize")
    url, hits = server
    directory = _kustomization(tmp_path, SHAPES["deeper-than-the-scan-parses"] % {"url": url})
    with pytest.raises(HandoffError, match=r"kustomization\.yaml:5: kustomization not checked.*nesting"):
        render_path(directory, repo=directory, kind="kustomize")
    assert hits == []


PATCH = "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npath: %(url)s/patch.yaml\n"
JSON6902 = ("apiVersion: builtin\nkind: PatchJson6902Transformer\nmetadata: {name: p}\n"
            "target: {version: v1, kind: ConfigMap, name: c}\npath: %(url)s/patch.json\n")
GENERATOR = "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: g}\nfiles:\n- k=%(url)s/g.txt\n"
PLUGIN_SHAPES: dict[str, tuple[str, dict[str, str]]] = {
    "transformer-file": ("resources: [cm.yaml]\ntransformers: [t.yaml]\n", {"t.yaml": PATCH}),
    "transformer-inline": ("resources: [cm.yaml]\ntransformers:\n- |\n" + "".join(
        f"  {line}\n" for line in PATCH.splitlines()), {}),
    "json6902-file": ("resources: [cm.yaml]\ntransformers: [t.yaml]\n", {"t.yaml": JSON6902}),
    "generator-file": ("generators: [gen.yaml]\n", {"gen.yaml": GENERATOR}),
    "transformer-directory": ("resources: [cm.yaml]\ntransformers: [plugins]\n",
                              {"plugins/kustomization.yaml": "resources: [t.yaml]\n", "plugins/t.yaml": PATCH}),
}


@pytest.mark.parametrize("shape", sorted(PLUGIN_SHAPES))
def test_no_plugin_config_reaches_the_network(tmp_path: Path, server: tuple[str, list[str]],
                                              shape: str) -> None:
    require_tool("kustomize")
    url, hits = server
    kustomization, files = PLUGIN_SHAPES[shape]
    directory = _kustomization(tmp_path, kustomization % {"url": url})
    for name, text in files.items():
        (directory / name).parent.mkdir(exist_ok=True)
        (directory / name).write_text(text % {"url": url}, encoding="utf-8")
    with pytest.raises(HandoffError, match="a remote file in a kustomize generator/transformer config"):
        render_path(directory, repo=directory, kind="kustomize")
    assert hits == [], f"{shape}: kustomize fetched {hits}"


def test_local_plugin_configs_still_render(tmp_path: Path) -> None:
    require_tool("kustomize")
    directory = _kustomization(tmp_path, "resources: [cm.yaml]\ntransformers: [t.yaml]\n")
    (directory / "t.yaml").write_text(
        "apiVersion: builtin\nkind: PrefixSuffixTransformer\nmetadata: {name: p}\nprefix: x-\n"
        "fieldSpecs: [{path: metadata/name}]\n", encoding="utf-8")
    (directory / "p.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
                                      "data: {patched: 'yes'}\n", encoding="utf-8")
    (directory / "kustomization.yaml").write_text(
        "resources: [cm.yaml]\ntransformers: [t.yaml, pt.yaml]\n", encoding="utf-8")
    (directory / "pt.yaml").write_text("apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: q}\n"
                                       "path: p.yaml\n", encoding="utf-8")
    rendered = render_path(directory, repo=directory, kind="kustomize")
    assert [(o.obj["metadata"]["name"], o.obj.get("data")) for o in rendered.objects] == [
        ("x-c", {"patched": "yes"})]


POLICY_CONFIG = """\
environments:
  dev: {render: {type: plain, path: envs/dev}}
policies:
  dirs: [%s]
"""
DENY_ALL = 'package main\nimport rego.v1\ndeny contains msg if { msg := "policy from %s" }\n'


def _policy_repo(tmp_path: Path, dirs: str) -> Path:
    repo = tmp_path / "repo"
    (repo / "envs" / "dev").mkdir(parents=True)
    (repo / "policy").mkdir()
    (repo / ".handoff.yaml").write_text(POLICY_CONFIG % dirs, encoding="utf-8")
    (repo / "envs" / "dev" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.rego").write_text(DENY_ALL % "outside", encoding="utf-8")
    return repo


def _validate(repo: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run([sys.executable, "-m", "handoff", "validate"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_a_policy_link_leaving_the_repo_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("regopy")
    repo = _policy_repo(tmp_path, "policy")
    (repo / "policy" / "o.rego").symlink_to(tmp_path / "outside" / "x.rego")
    run = _validate(repo)
    assert run.returncode != 0
    assert "policy from outside" not in run.stdout + run.stderr
    assert "policy/o.rego -> " in run.stderr and "a symlink leaving the config repo" in run.stderr


def test_a_policy_dir_above_the_repo_is_refused(tmp_path: Path) -> None:
    repo = _policy_repo(tmp_path, "../outside")
    run = _validate(repo)
    assert run.returncode != 0
    assert "policy from outside" not in run.stdout + run.stderr
    assert ".handoff.yaml" in run.stderr and "policies.dirs[0]" in run.stderr


def test_a_policy_link_inside_the_repo_still_applies(tmp_path: Path) -> None:
    pytest.importorskip("regopy")
    repo = _policy_repo(tmp_path, "policy")
    (repo / "shared").mkdir()
    (repo / "shared" / "x.rego").write_text(DENY_ALL % "inside", encoding="utf-8")
    (repo / "policy" / "i.rego").symlink_to(repo / "shared" / "x.rego")
    run = _validate(repo)
    assert "policy from inside" in run.stdout, run.stdout + run.stderr


TOKEN = "ghp_UntrustedAttackToken1234567890"


def test_a_config_link_leaving_the_repo_is_refused_without_quoting_its_target(tmp_path: Path) -> None:
    repo = _policy_repo(tmp_path, "policy")
    (repo / ".handoff.yaml").unlink()
    token = tmp_path / "outside" / "token"
    token.write_text(TOKEN + "\n", encoding="utf-8")
    (repo / ".handoff.yaml").symlink_to(token)
    run = _validate(repo)
    assert run.returncode != 0
    assert TOKEN not in run.stdout + run.stderr
    assert ".handoff.yaml -> " in run.stderr and "a symlink leaving the config repo" in run.stderr


def test_a_config_link_inside_the_repo_still_loads(tmp_path: Path) -> None:
    repo = _policy_repo(tmp_path, "policy")
    (repo / ".handoff.yaml").rename(repo / "handoff-config.yaml")
    (repo / ".handoff.yaml").symlink_to("handoff-config.yaml")
    run = _validate(repo)
    assert run.returncode == 0, run.stdout + run.stderr


_MEASURE = """\
import json, sys
from pathlib import Path
from typing import Any
from handoff.errors import HandoffError
from handoff.render import render_path
repo = Path(sys.argv[1])
try:
    render_path(repo / "envs", repo=repo, kind="plain")
    refused = ""
except HandoffError as e:
    refused = str(e)
# VmHWM, not ru_maxrss: the latter starts at the size of the pytest process that started this one
hwm = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
           if line.startswith("VmHWM:"))
print(json.dumps({"refused": refused, "peak_mib": hwm / 1024}))
"""
RECONCILER_LIMIT_MIB = 256


@pytest.mark.slow
def test_a_dense_manifest_under_the_caps_fits_the_reconciler_memory(tmp_path: Path,
                                                                    record_property: Any) -> None:
    envs = tmp_path / "envs"
    envs.mkdir()
    with (envs / "cm.yaml").open("w", encoding="utf-8") as out:
        out.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dense}\ndata:\n")
        out.writelines(f"  k{i}: v\n" for i in range(1_000_000))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    run = subprocess.run([sys.executable, "-c", _MEASURE, str(tmp_path)], env=env, capture_output=True,
                         text=True, timeout=600, check=True)
    result = json.loads(run.stdout)
    record_property("peak_rss_mib", result["peak_mib"])  # the measurement, for the test report
    assert result["refused"] or result["peak_mib"] < RECONCILER_LIMIT_MIB, result


NESTED_LIST = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: List
  items:
  - apiVersion: v1
    kind: Secret
    metadata: {name: nested}
    stringData: {password: NestedListSecret123}
"""


@pytest.mark.parametrize("kind", ["plain", "helm"])
def test_a_secret_in_a_nested_list_is_masked(tmp_path: Path, kind: str) -> None:
    if kind == "helm":
        require_tool("helm")
        source = tmp_path / "chart"
        (source / "templates").mkdir(parents=True)
        (source / "Chart.yaml").write_text("apiVersion: v2\nname: nested\nversion: 0.1.0\n", encoding="utf-8")
        (source / "templates" / "list.yaml").write_text(NESTED_LIST, encoding="utf-8")
    else:
        source = tmp_path / "envs"
        source.mkdir()
        (source / "list.yaml").write_text(NESTED_LIST, encoding="utf-8")
    rendered = render_path(source, repo=tmp_path, kind=kind)
    assert [(o.obj["kind"], o.obj["metadata"]["name"]) for o in rendered.objects] == [("Secret", "nested")]
    if kind == "plain":
        assert rendered.objects[0].line == 7
    shown = canonical_yaml(rendered.objects)
    assert "NestedListSecret123" not in shown and "<secret sha256:" in shown


DENSE_SHAPES = {
    "tiny-keys": "data:\n" + "".join(f"  k{i}: v\n" for i in range(400)),
    "nested-maps": "data:\n" + "".join(f"  a{i}:\n    b:\n      c: 1\n" for i in range(150)),
    "scalar-list": "x:\n" + "- a\n" * 400,
    "flow-mapping": "x: {" + ", ".join(f"k{i}: 1" for i in range(400)) + "}\n",
    "many-documents": "".join(f"---\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n" for i in range(150)),
    "aliases": "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
               "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
}


@pytest.mark.parametrize("shape", sorted(DENSE_SHAPES))
def test_every_dense_shape_over_the_node_budget_fails_fast_with_one_line(tmp_path: Path, shape: str) -> None:
    envs = tmp_path / "envs"
    envs.mkdir()
    (envs / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dense}\n"
                                  + DENSE_SHAPES[shape], encoding="utf-8")
    with render_policy(RenderPolicy(limits=RenderLimits(max_nodes=1000))), pytest.raises(HandoffError) as refused:
        result = render_path(envs, repo=tmp_path, kind="plain")
        # aliases are parsed by the exact loader: refused there as a finding, within the budget's remainder
        assert any(f.rule == "yaml/limit" for f in result.findings), result.findings
        raise HandoffError("refused as a finding")
    message = str(refused.value)
    assert "\n" not in message
    assert "1000-node YAML budget at envs/cm.yaml" in message or message == "refused as a finding"
