"""Hostile and careless inputs found by attacking bump: each was a wrong edit with exit 0 (or a crash)
before it became a test. Every refusal is one line naming file:line, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.edit.bump import bump
from handoff.errors import HandoffError
from tests.bump.helpers import make_repo, snapshot

REF = "ghcr.io/acme/web:1.1"
DIGEST = "sha256:" + "c" * 64


def refused(tmp_path: Path, files: dict[str, str], image: str = REF, **kwargs: str) -> str:
    repo = make_repo(tmp_path, files)
    before = snapshot(repo)
    with pytest.raises(HandoffError) as err:
        bump(repo, image, app="web", **kwargs)  # type: ignore[arg-type]
    assert snapshot(repo) == before
    message = str(err.value)
    assert "\n" not in message
    return message


def bumped(tmp_path: Path, files: dict[str, str], image: str = REF) -> dict[str, str]:
    repo = make_repo(tmp_path, files)
    bump(repo, image, app="web")
    return {name: (repo / name).read_text() for name in files}


# -- a marker binds only to a value of its own role ----------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    # multi-line flow mapping: the tag marker's line holds only `repository` (was: "1.1" written there)
    ("image: {repository: ghcr.io/acme/web, # handoff:tag web\n  tag: \"1.0\"}\n",
     "f.yaml:1: at image.repository: marker handoff:tag web binds to image.repository, but key repository "
     "holds another part of the image"),
    ("image:\n  repository: ghcr.io/acme/web # handoff:tag web\n  tag: \"1.0\"\n",
     "f.yaml:2: at image.repository: marker handoff:tag web binds to image.repository, but key repository "
     "holds another part of the image"),
    # a tag marker on a whole reference (was: `image: "1.1"`)
    ("image: ghcr.io/acme/web:1.0 # handoff:tag web\n",
     "f.yaml:1: at image: marker handoff:tag web binds to image, but key image holds another part of the image"),
    # a digest marker on the tag key (was: the digest written as the tag)
    ("tag: \"1.0\" # handoff:digest web\n",
     "f.yaml:1: at tag: marker handoff:digest web binds to tag, but key tag holds another part of the image"),
    ("pin: \"1.0\" # handoff:digest web\n",
     "f.yaml:1: at pin: marker handoff:digest web binds to pin, but '1.0' is not a digest"),
    ("ref: ghcr.io/acme/web # handoff:tag web\n",
     "f.yaml:1: at ref: marker handoff:tag web binds to ref, but 'ghcr.io/acme/web' holds a repository, not a tag"),
    ("repo: ghcr.io/acme/web:1.0 # handoff:name web\n",
     "f.yaml:1: at repo: marker handoff:name web binds to repo, but 'ghcr.io/acme/web:1.0' holds a tag or "
     "digest (use handoff:image for a whole reference)"),
])
def test_a_marker_on_a_value_of_another_role_is_refused(tmp_path: Path, text: str, expected: str) -> None:
    image = f"{REF}@{DIGEST}" if "digest" in text else REF
    assert refused(tmp_path, {"f.yaml": text}, image) == expected


def test_an_image_marker_on_a_container_name_is_refused_even_when_the_app_declares_the_image(
        tmp_path: Path) -> None:
    # with a declared image the repository check is skipped, so this wrote the image into `name:`
    config = "apps:\n  web:\n    image: ghcr.io/acme/web\n    targets:\n      - {type: marker, path: f.yaml}\n"
    text = "containers:\n- name: web # handoff:image web\n  image: ghcr.io/acme/web:1.0\n"
    assert refused(tmp_path, {".handoff.yaml": config, "f.yaml": text}) == (
        "f.yaml:2: at containers[0].name: marker handoff:image web binds to containers[0].name, but key "
        "name holds another part of the image")


def test_a_tag_marker_on_a_plain_version_key_still_works(tmp_path: Path) -> None:
    text = "appVersion: \"1.0\" # handoff:tag web\n"
    assert bumped(tmp_path, {"f.yaml": text})["f.yaml"] == "appVersion: \"1.1\" # handoff:tag web\n"


# -- a comment that reads as a marker but is not one refuses (it was silently skipped) ---------------

LOOK_ALIKES = [
    "# h\u0430ndoff:image web",  # Cyrillic a
    "# handoff:image w\u0435b",  # Cyrillic e in the app
    "# handoff\uff1aimage web",  # fullwidth colon
    "# hand\u200boff:image web",  # zero-width space
    "# handoff:imgae web",  # typo in the role
    "# handoff:image web env = prod",  # spaces around '='
    "# handoff:Image web",
]


@pytest.mark.parametrize("comment", LOOK_ALIKES)
def test_a_marker_look_alike_next_to_a_real_marker_refuses(tmp_path: Path, comment: str) -> None:
    text = f"a: ghcr.io/acme/web:1.0 # handoff:image web\nb: ghcr.io/acme/web:1.0 {comment}\n"
    assert refused(tmp_path, {"f.yaml": text}) == (
        f"f.yaml:2: comment {comment!r} looks like a marker but is not one (expected "
        "`# handoff:image|tag|digest|name APP [env=ENV]` in plain ASCII)")


def test_a_look_alike_alone_in_a_file_is_found_and_refused(tmp_path: Path) -> None:
    text = "b: ghcr.io/acme/web:1.0 # h\u0430ndoff:image web\n"
    assert refused(tmp_path, {"f.yaml": text}).startswith("f.yaml:1: comment")


def test_a_look_alike_naming_another_app_does_not_block(tmp_path: Path) -> None:
    files = {"f.yaml": "a: ghcr.io/acme/web:1.0 # handoff:image web\nb: ghcr.io/acme/api:1.0 # handoff:imgae api\n"}
    assert bumped(tmp_path, files)["f.yaml"].startswith("a: ghcr.io/acme/web:1.1 # handoff:image web\n")


def test_look_alike_text_inside_a_scalar_is_text(tmp_path: Path) -> None:
    text = "note: \"# h\u0430ndoff:image web\"\na: ghcr.io/acme/web:1.0 # handoff:image web\n"
    assert bumped(tmp_path, {"f.yaml": text})["f.yaml"] == text.replace("web:1.0", "web:1.1")


# -- anchors, `---` and documents ---------------------------------------------------------------------

def test_a_marker_on_an_anchored_value_edits_the_anchor_once(tmp_path: Path) -> None:
    text = "base: &img ghcr.io/acme/web:1.0 # handoff:image web\nother: *img\n"
    assert bumped(tmp_path, {"f.yaml": text})["f.yaml"] == text.replace("1.0", "1.1")


def test_a_marker_on_an_alias_edits_the_anchor(tmp_path: Path) -> None:
    text = "base: &img ghcr.io/acme/web:1.0\nother: *img # handoff:image web\n"
    assert bumped(tmp_path, {"f.yaml": text})["f.yaml"] == text.replace("1.0", "1.1")


def test_a_marker_in_a_comment_after_a_document_start_is_refused(tmp_path: Path) -> None:
    text = "a: 1\n--- # handoff:image web\nimage: ghcr.io/acme/web:1.0\n"
    assert refused(tmp_path, {"f.yaml": text}) == (
        "f.yaml:2: marker handoff:image web is not on a line with a scalar value")


def test_markers_in_every_document_are_all_bumped(tmp_path: Path) -> None:
    text = "image: ghcr.io/acme/web:1.0 # handoff:image web\n---\nimage: ghcr.io/acme/web:1.0 # handoff:image web\n"
    assert bumped(tmp_path, {"f.yaml": text})["f.yaml"] == text.replace("1.0", "1.1")


def test_a_hash_inside_a_quoted_key_is_not_a_marker(tmp_path: Path) -> None:
    text = "\"k # handoff:image web\": ghcr.io/acme/web:1.0\n"
    message = refused(tmp_path, {"f.yaml": text})
    assert message == "no `# handoff:...` marker for app web in the repository"


def test_a_quoted_key_holding_a_hash_keeps_the_real_marker(tmp_path: Path) -> None:
    text = "'a#b': ghcr.io/acme/web:1.0 # handoff:image web\n"
    assert bumped(tmp_path, {"f.yaml": text})["f.yaml"] == text.replace("1.0", "1.1")


# -- helm: a tag-only target next to another image's repository ---------------------------------------

def helm_repo(values: str, target: str = "{type: helm, path: v.yaml, tag: image.tag}") -> dict[str, str]:
    config = f"apps:\n  web:\n    image: ghcr.io/acme/web\n    targets:\n      - {target}\n"
    return {".handoff.yaml": config, "v.yaml": values}


def test_a_tag_only_target_beside_another_images_repository_is_refused(tmp_path: Path) -> None:
    # was: the other image's tag bumped, exit 0
    files = helm_repo("image:\n  repository: ghcr.io/other/thing\n  tag: '1.0'\n")
    assert refused(tmp_path, files) == (
        "v.yaml:2: at image.repository: the tag image.tag belongs to ghcr.io/other/thing (image.repository), "
        "not ghcr.io/acme/web; name `repository:` in the target to repoint it")


def test_a_tag_only_target_beside_a_shared_registry_prefix_is_bumped(tmp_path: Path) -> None:
    # microservices-demo helm-chart/values.yaml style: `images.repository` is a prefix for every service
    values = "images:\n  repository: ghcr.io/acme\n  tag: '1.0'\n"
    out = bumped(tmp_path, helm_repo(values, "{type: helm, path: v.yaml, tag: images.tag}"))
    assert out["v.yaml"] == values.replace("'1.0'", "'1.1'")


def test_a_tag_only_target_beside_its_own_registry_and_repository_is_bumped(tmp_path: Path) -> None:
    values = "image:\n  registry: ghcr.io\n  repository: acme/web\n  tag: '1.0'\n"
    assert bumped(tmp_path, helm_repo(values))["v.yaml"] == values.replace("'1.0'", "'1.1'")


# -- kustomize ----------------------------------------------------------------------------------------

def test_an_entry_named_with_a_tag_gets_no_redundant_new_name(tmp_path: Path) -> None:
    config = ("apps:\n  web:\n    image: postgres\n    targets:\n"
              "      - {type: kustomize, path: k.yaml, name: 'postgres:11'}\n")
    text = "images:\n- name: postgres:11\n  newTag: '11.1'\n"
    repo = make_repo(tmp_path, {".handoff.yaml": config, "k.yaml": text})
    bump(repo, "postgres:11.2", app="web")
    assert (repo / "k.yaml").read_text() == "images:\n- name: postgres:11\n  newTag: '11.2'\n"


# -- manifest -----------------------------------------------------------------------------------------

def test_a_manifest_target_in_a_file_without_workloads_refuses_instead_of_crashing(tmp_path: Path) -> None:
    # a `kind: List` wrapper: no top-level workload (was: ValueError from the "nearest names" hint)
    config = ("apps:\n  web:\n    image: ghcr.io/acme/web\n    targets:\n"
              "      - {type: manifest, path: m.yaml, kind: Deployment, container: web}\n")
    text = ("apiVersion: v1\nkind: List\nitems:\n- kind: Deployment\n  metadata: {name: a}\n"
            "  spec: {template: {spec: {containers: [{name: web, image: ghcr.io/acme/web:1.0}]}}}\n")
    assert refused(tmp_path, {".handoff.yaml": config, "m.yaml": text}) == (
        "m.yaml: at apps.web.targets[0]: no Deployment/* container web found (workloads here: none)")


def test_a_kustomize_name_spelled_otherwise_than_the_existing_entry_is_refused(tmp_path: Path) -> None:
    # was: a second entry `docker.io/library/nginx` appended, which kustomize never applies to `nginx:1.0`
    config = ("apps:\n  web:\n    image: nginx\n    targets:\n"
              "      - {type: kustomize, path: k.yaml, name: docker.io/library/nginx}\n")
    text = "resources: [d.yaml]\nimages:\n- name: nginx\n  newTag: '1.0'\n"
    repo = make_repo(tmp_path, {".handoff.yaml": config, "k.yaml": text})
    before = snapshot(repo)
    with pytest.raises(HandoffError) as err:
        bump(repo, "nginx:1.1", app="web")
    assert str(err.value) == (
        "k.yaml:3: at images: images has 'nginx', the same image as the target's name "
        "'docker.io/library/nginx' spelled otherwise; kustomize matches names as written: set the target's "
        "`name:` to 'nginx'")
    assert snapshot(repo) == before


def test_a_helm_tag_key_holding_a_whole_reference_is_refused(tmp_path: Path) -> None:
    # was: `tag: "1.1"` written over `ghcr.io/acme/web:1.0`, the repository lost
    files = helm_repo("image:\n  tag: ghcr.io/acme/web:1.0\n")
    assert refused(tmp_path, files) == (
        "v.yaml:2: at image.tag: image.tag holds 'ghcr.io/acme/web:1.0', a whole image reference, not a tag: "
        "declare it as the target's `image:`")


PROMOTE_ONLY = ("environments:\n  dev: {}\n  prod: {promote_only: true}\napps:\n  web:\n"
                "    image: ghcr.io/acme/web\n    targets:\n      - {type: marker, path: images.yaml}\n")
ENV_MARKERS = ("dev: ghcr.io/acme/web:1.0 # handoff:image web env=dev\n"
               "prod: ghcr.io/acme/web:1.0 # handoff:image web env=prod\n")


def test_env_scoped_markers_of_a_promote_only_environment_are_held_back_without_env(tmp_path: Path) -> None:
    # was: one marker target, no --env: the prod marker was bumped too, although prod is promote-only
    repo = make_repo(tmp_path, {".handoff.yaml": PROMOTE_ONLY, "images.yaml": ENV_MARKERS})
    result = bump(repo, REF, app="web")
    assert result.skipped == ("prod",)
    assert (repo / "images.yaml").read_text() == ENV_MARKERS.replace("web:1.0 # handoff:image web env=dev",
                                                                     "web:1.1 # handoff:image web env=dev")


def test_env_scoped_markers_of_a_promote_only_environment_change_with_an_explicit_env(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": PROMOTE_ONLY, "images.yaml": ENV_MARKERS})
    bump(repo, REF, app="web", env="prod")
    assert (repo / "images.yaml").read_text() == ENV_MARKERS.replace("web:1.0 # handoff:image web env=prod",
                                                                     "web:1.1 # handoff:image web env=prod")
