"""Markers are YAML comments bound to the scalar they name; a wrong edit never exits 0.

Each case is a layout seen in public config repos, written fresh here: Flux-setter style markers on
flow collections (containers lists, kustomize `images:` entries, Helm `image: {repository, tag}`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handoff.edit.bump import bump
from handoff.errors import EditError, HandoffError
from tests.bump.helpers import make_repo, snapshot

REF = "ghcr.io/acme/web:1.1"


def bumped(tmp_path: Path, text: str, *, app: str = "web", image: str = REF, name: str = "f.yaml") -> str:
    repo = make_repo(tmp_path, {name: text})
    result = bump(repo, image, app=app)
    assert result.changed
    return (repo / name).read_text()


def test_flow_sequence_of_containers_binds_image_by_key(tmp_path: Path) -> None:
    before = "spec:\n  containers: [{name: web, image: ghcr.io/acme/web:1.0}] # handoff:image web\n"
    assert bumped(tmp_path, before) == (
        "spec:\n  containers: [{name: web, image: ghcr.io/acme/web:1.1}] # handoff:image web\n")


def test_flow_kustomize_entry_binds_tag_to_new_tag(tmp_path: Path) -> None:
    before = 'images:\n- {name: x, newTag: "1.0"} # handoff:tag x\n'
    assert bumped(tmp_path, before, app="x", image="x:2.0") == 'images:\n- {name: x, newTag: "2.0"} # handoff:tag x\n'


def test_flow_helm_image_mapping_binds_tag(tmp_path: Path) -> None:
    before = "image: {repository: ghcr.io/acme/web, tag: \"1.0\"} # handoff:tag x\n"
    after = bumped(tmp_path, before, app="x")
    assert after == "image: {repository: ghcr.io/acme/web, tag: \"1.1\"} # handoff:tag x\n"


def test_ambiguous_flow_line_is_refused_with_candidates(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"f.yaml": "pair: {a: \"1.0\", b: \"2.0\"} # handoff:tag web\n"})
    before = snapshot(repo)
    with pytest.raises(EditError) as err:
        bump(repo, REF, app="web")
    assert "f.yaml:1" in str(err.value) and "pair.a" in str(err.value) and "pair.b" in str(err.value)
    assert snapshot(repo) == before


def test_marker_text_inside_a_block_scalar_is_not_a_marker(tmp_path: Path) -> None:
    before = ("notes: |\n  image: ghcr.io/acme/web:0.1 # handoff:image web\n  more text\n"
              "image: ghcr.io/acme/web:1.0 # handoff:image web\n")
    assert bumped(tmp_path, before) == before.replace("web:1.0 #", "web:1.1 #")


def test_marker_text_inside_a_quoted_string_is_not_a_marker(tmp_path: Path) -> None:
    before = ('doc: "see image: ghcr.io/acme/web:0.1 # handoff:image web"\n'
              "image: ghcr.io/acme/web:1.0 # handoff:image web\n")
    assert bumped(tmp_path, before) == before.replace("web:1.0 #", "web:1.1 #")


def test_only_a_quoted_look_alike_means_no_marker(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"f.yaml": 'doc: "x: y # handoff:image web"\n'})
    with pytest.raises(HandoffError, match=re.escape("no `# handoff:...` marker")):
        bump(repo, REF, app="web")


@pytest.mark.parametrize("app", ["web", None])
def test_broken_file_with_another_apps_marker_does_not_block(tmp_path: Path, app: str | None) -> None:
    repo = make_repo(tmp_path, {
        "other.yaml": "image: ghcr.io/acme/api:1.0 # handoff:image api\nkey: 1\nkey: 2\n",
        "web.yaml": "image: ghcr.io/acme/web:1.0 # handoff:image web\n",
    })
    result = bump(repo, REF, app=app)
    assert result.files == ("web.yaml",)


def test_broken_file_with_this_apps_marker_fails_the_bump(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {
        "broken.yaml": "image: ghcr.io/acme/web:1.0 # handoff:image web\nkey: 1\nkey: 2\n",
        "web.yaml": "image: ghcr.io/acme/web:1.0 # handoff:image web\n",
    })
    before = snapshot(repo)
    with pytest.raises(HandoffError, match=re.escape("broken.yaml")):
        bump(repo, REF, app="web")
    assert snapshot(repo) == before
