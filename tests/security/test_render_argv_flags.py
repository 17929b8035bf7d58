"""No repo-supplied string becomes a renderer's flag (issue 13, atk13c finding 0).

``.handoff.yaml`` names a Helm release and a namespace; the config schema and ``handoff/config.py`` hold
them to a release name (RFC 1123, at most 53 characters) and a namespace name, one line naming the file,
line and key. Behind that, every argv slot a repo string reaches cannot be read as a flag: helm's
positionals follow ``--`` and its options are ``--flag=value``, and paths are absolute. Each slot gets a
``-``-leading value here, rendered by real helm and kustomize; propose and promote refuse the release
flag before anything is rendered or pushed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from handoff.config import parse_config_text
from handoff.errors import ConfigError, RenderError
from handoff.render import render_path
from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool
from tests.security.test_untrusted_paths import CHART, DEPLOYMENT, World, branches

pytestmark = pytest.mark.tools

POST_RENDERER = "--post-renderer=/bin/sh"


def _config(render: str) -> str:
    return f"environments:\n  dev:\n    render: {render}\n"


@pytest.mark.parametrize(("field", "value", "shown"), [
    ("release", POST_RENDERER, "not a Helm release name"),
    ("release", "-x", "not a Helm release name"),
    ("release", "a" * 54, "not a Helm release name"),
    ("release", "Web", "not a Helm release name"),
    ("namespace", POST_RENDERER, "not a namespace name"),
    ("namespace", "-n", "not a namespace name"),
    ("namespace", "a" * 64, "not a namespace name"),
])
def test_a_release_or_namespace_that_is_not_a_name_is_one_line_naming_the_key(field: str, value: str,
                                                                              shown: str) -> None:
    text = _config(f"{{type: helm, path: chart, {field}: {value!r}}}")
    with pytest.raises(ConfigError) as caught:
        parse_config_text(text)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(".handoff.yaml:3:"), message
    assert f"environments.dev.render.{field}" in message, message


def test_a_release_name_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"environments\.dev\.render\.release"):
        parse_config_text(_config('{type: helm, path: chart, release: "web\\n"}'))


def test_release_and_namespace_names_still_load() -> None:
    config = parse_config_text(_config("{type: helm, path: chart, release: web.v2-blue, namespace: team-a}"))
    render = config.environments["dev"].render
    assert render is not None and (render.release, render.namespace) == ("web.v2-blue", "team-a")


def _chart(at: Path, marker: Path) -> Path:
    """A chart whose output, run as a shell script, would write ``marker``."""
    (at / "templates").mkdir(parents=True)
    (at / "Chart.yaml").write_text(CHART)
    (at / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: {{ .Release.Namespace }}\n"
        f"data:\n  run: |\n    touch {marker}\n  release: {{{{ .Release.Name }}}}\n")
    return at


def test_a_flag_as_the_release_name_reaches_helm_as_a_positional(tmp_path: Path) -> None:
    require_tool("helm")
    marker = tmp_path / "ran"
    chart = _chart(tmp_path / "repo" / "chart", marker)
    with pytest.raises(RenderError, match="invalid release name"):
        render_path(chart, repo=tmp_path / "repo", kind="helm", release=POST_RENDERER)
    assert not marker.exists()


def test_a_flag_as_the_namespace_stays_the_namespace_value(tmp_path: Path) -> None:
    require_tool("helm")
    marker = tmp_path / "ran"
    chart = _chart(tmp_path / "repo" / "chart", marker)
    try:
        result = render_path(chart, repo=tmp_path / "repo", kind="helm", namespace=POST_RENDERER)
    except RenderError:
        result = None  # helm may refuse the namespace; it must not read it as a flag
    assert not marker.exists()
    if result is not None:
        assert result.objects[0].obj["metadata"]["namespace"] == POST_RENDERER


@pytest.mark.parametrize("name", ["--post-renderer=x.yaml", "-f.yaml"])
def test_a_values_file_named_like_a_flag_is_read_as_a_values_file(tmp_path: Path, name: str) -> None:
    require_tool("helm")
    marker = tmp_path / "ran"
    chart = _chart(tmp_path / "repo" / "chart", marker)
    values = tmp_path / "repo" / name
    values.write_text("unused: true\n")
    result = render_path(chart, repo=tmp_path / "repo", kind="helm", values=[values])
    assert not marker.exists()
    assert result.objects[0].obj["data"]["release"] == "release"


def test_a_chart_directory_named_like_a_flag_renders(tmp_path: Path) -> None:
    require_tool("helm")
    marker = tmp_path / "ran"
    chart = _chart(tmp_path / "repo" / "--post-renderer=sh", marker)
    result = render_path(chart, repo=tmp_path / "repo", kind="helm", release="web")
    assert not marker.exists()
    assert result.objects[0].obj["data"]["release"] == "web"


def test_a_kustomization_directory_named_like_a_flag_renders(tmp_path: Path) -> None:
    require_tool("kustomize")
    directory = tmp_path / "repo" / "--enable-exec"
    directory.mkdir(parents=True)
    (directory / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (directory / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n")
    result = render_path(directory, repo=tmp_path / "repo", kind="kustomize")
    assert [o.obj["metadata"]["name"] for o in result.objects] == ["web"]


def _flagged_repo(marker: Path) -> dict[str, str]:
    config = ("environments:\n"
              f"  staging: {{render: {{type: helm, path: chart, release: {POST_RENDERER!r}}}}}\n"
              f"  prod: {{render: {{type: helm, path: chart, release: {POST_RENDERER!r}}}}}\n"
              "apps:\n  web:\n    image: registry.example/web\n    targets:\n"
              "      - type: marker\n        path: chart/values-{env}.yaml\n")
    files = {".handoff.yaml": config, "chart/Chart.yaml": CHART,
             "chart/templates/deployment.yaml": DEPLOYMENT % "registry.example/web:1.0.0",
             "chart/templates/run.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: run\ndata:\n"
                                          f"  run: |\n    touch {marker}\n")}
    files.update({f"chart/values-{env}.yaml": f"image: registry.example/web:{tag} # handoff:image web\n"
                  for env, tag in (("staging", "1.2.0"), ("prod", "1.0.0"))})
    return files


def test_propose_and_promote_refuse_the_release_flag_and_push_nothing(git_server: GitServer,
                                                                      tmp_path: Path) -> None:
    require_tool("helm")
    marker = tmp_path / "ran"
    world = World(git_server, tmp_path)
    url = world.seed("cfg", _flagged_repo(marker), {}, tmp_path / "cfg")
    ci = ["--config-repo", url, "--forge", "local", "--token-env", "CFG_TOKEN",
          "--git-username", str(git_server.username)]
    runs = {
        "propose": world.run("propose", ["propose", "--image", "registry.example/web:1.1.0", "--app", "web",
                                         "--env", "prod", *ci]),
        "promote": world.run("promote", ["promote", "--app", "web", "--from", "staging", "--to", "prod", *ci]),
    }
    for label, done in runs.items():
        assert done.returncode != 0, f"{label} accepted the release flag: {done.stdout}"
        assert ".handoff.yaml" in done.stderr and ".render.release" in done.stderr, f"{label}: {done.stderr}"
    assert not marker.exists(), "the release name ran the chart as a shell script"
    assert branches(git_server, "cfg") == ["main"]
    world.assert_clean()


def test_helm_reads_a_flag_after_the_separator_as_a_positional(tmp_path: Path) -> None:
    """What the argv builder relies on: cobra stops reading flags at ``--``."""
    helm = require_tool("helm")
    marker = tmp_path / "ran"
    chart = _chart(tmp_path / "chart", marker)
    done = subprocess.run([str(helm), "template", "--", POST_RENDERER, str(chart)], capture_output=True,
                          text=True, check=False)
    assert done.returncode != 0 and "invalid release name" in done.stderr
    assert not marker.exists()
