"""Every file of the shared real-world corpus: every image field found is bumped (no-op bumps leave the
file byte-identical, a new tag changes exactly that field's line and nothing else) or refused with a
reason naming the file, with nothing written. A helm tag is bumped to the image of its sibling
``repository`` (bumping another image's tag is refused: tests/bump/test_attacks.py)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from handoff.edit.bump import bump, plan_bump
from handoff.errors import HandoffError, YamlError
from handoff.imageref import parse
from handoff.manifests import yamlio
from tests.harness.paths import CORPUS

FILES = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.y*ml"))
KNOWN_INVALID = ("container-images-tag", "container-images-registry")
NEW_TAG = "9.9.9-handoff"


@dataclass(frozen=True)
class Field:
    kind: str  # "image" (a repo:tag string), "tag" (helm-style tag key), "kustomize" (images[] entry)
    keypath: str
    value: str
    line: int  # 0-based line of the value
    image_name: str = ""  # kustomize: newName, else name


def discover(documents: list[Node | None]) -> list[Field]:
    """Image fields found generically: helm repository/tag maps, image strings, kustomize images."""
    fields: list[Field] = []
    root = next((d for d in documents if d is not None), None)
    if root is None or len([d for d in documents if d is not None]) != 1:
        return _manifest_images(documents)
    _walk(root, "", fields, set())
    if isinstance(root, MappingNode):
        for key, value in root.value:
            if key.value == "images" and isinstance(value, SequenceNode):
                for item in value.value:
                    entry = _entry(item)
                    if entry.get("name") and isinstance(entry.get("newTag"), ScalarNode):
                        tag = entry["newTag"]
                        image_name = entry.get("newName", entry["name"])
                        fields.append(Field("kustomize", str(entry["name"].value), str(tag.value),
                                            tag.start_mark.line, str(getattr(image_name, "value", ""))))
    return fields


def _entry(node: Node) -> dict[str, Node]:
    return {str(k.value): v for k, v in node.value} if isinstance(node, MappingNode) else {}


def _walk(node: Node, path: str, out: list[Field], seen: set[int]) -> None:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        entry = _entry(node)
        for key, value in node.value:
            name = str(key.value)
            if any(c in name for c in ".[]= ") or not name:
                continue
            child = f"{path}.{name}" if path else name
            if isinstance(value, ScalarNode) and value.value and value.style not in ("|", ">"):
                if name == "image" and _is_ref(value.value):
                    out.append(Field("image", child, value.value, value.start_mark.line))
                if name == "tag" and "repository" in entry:
                    out.append(Field("tag", child, value.value, value.start_mark.line,
                                     _repository_of(entry)))
            _walk(value, child, out, seen)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, f"{path}[{index}]", out, seen)


def _repository_of(entry: dict[str, Node]) -> str:
    """The image a helm ``tag`` belongs to: its sibling ``repository`` (after ``registry``), as written."""
    repository = getattr(entry["repository"], "value", "")
    registry = getattr(entry.get("registry"), "value", "")
    name = f"{registry}/{repository}" if isinstance(registry, str) and registry else str(repository)
    return name if isinstance(repository, str) and repository else ""


def _manifest_images(documents: list[Node | None]) -> list[Field]:
    out: list[Field] = []
    for index, document in enumerate(documents):
        if document is not None:
            found: list[Field] = []
            _walk(document, "", found, set())
            out += [Field("doc-image", f"{index}|{f.keypath}", f.value, f.line) for f in found if f.kind == "image"]
    return out


def _is_ref(text: str) -> bool:
    try:
        ref = parse(text)
    except HandoffError:
        return False
    return bool(ref.tag or ref.digest)


def _config(field: Field, file: str) -> str:
    if field.kind == "image":
        target = f"{{type: helm, path: {file!r}, image: {field.keypath!r}}}"
    elif field.kind == "tag":
        target = f"{{type: helm, path: {file!r}, tag: {field.keypath!r}}}"
    else:
        target = f"{{type: kustomize, path: {file!r}, name: {field.keypath!r}}}"
    return f"apps:\n  app:\n    targets:\n      - {target}\n"


def _bump_image(field: Field, new_tag: str) -> str:
    if field.kind in ("image", "doc-image"):
        ref = parse(field.value)
        return f"{ref.name}:{new_tag}"
    if field.kind == "kustomize":
        return f"{field.image_name}:{new_tag}"
    # the tag's own image: bumping another image's tag is refused (tests/bump/test_attacks.py)
    return f"{field.image_name}:{new_tag}" if _is_name(field.image_name) else f"example/app:{new_tag}"


def _is_name(text: str) -> bool:
    try:
        parse(text + ":x")
    except HandoffError:
        return False
    return True


def _load(path: Path) -> list[Node | None] | None:
    try:
        return yamlio.load_file(path, display=path.name)[1]
    except YamlError:
        return None


def _repo_with(tmp_path: Path, rel: str) -> tuple[Path, Path]:
    repo = tmp_path / "repo"
    target = repo / "f.yaml"
    target.parent.mkdir(parents=True)
    shutil.copyfile(CORPUS / rel, target)
    return repo, target


def test_corpus_is_present() -> None:
    assert len(FILES) > 90


@pytest.mark.parametrize("rel", FILES)
def test_corpus_file(rel: str, tmp_path: Path) -> None:
    repo, target = _repo_with(tmp_path, rel)
    original = target.read_bytes()
    documents = _load(target)
    if documents is None:
        assert any(k in rel for k in KNOWN_INVALID), f"{rel} should parse"
        (repo / ".handoff.yaml").write_text(_config(Field("tag", "image.tag", "", 0), "f.yaml"))
        with pytest.raises(YamlError) as caught:
            bump(repo, "example/app:1.0", app="app")
        assert str(caught.value).startswith("f.yaml:")
        assert target.read_bytes() == original
        return
    for field in discover(documents):
        if field.kind == "doc-image":
            _check_manifest_field(repo, target, original, field)
            continue
        (repo / ".handoff.yaml").write_text(_config(field, "f.yaml"))
        if field.kind == "kustomize" and not _is_name(field.image_name):
            # no image to bump to can be formed from this entry: it must be refused, with its file
            with pytest.raises(HandoffError) as refused:
                bump(repo, _bump_image(field, NEW_TAG), app="app")
            assert "f.yaml" in str(refused.value) and target.read_bytes() == original
            continue
        # The value it already holds: nothing changes, byte for byte.
        if field.kind == "image" or (field.value and _is_name(f"example/app:{field.value}")):
            same = field.value if field.kind == "image" else _bump_image(field, field.value)
            if field.kind == "tag" or _is_ref(same):
                assert not plan_bump(repo, same, app="app").changed, (rel, field)
        # A new tag: exactly the field's line differs.
        result = bump(repo, _bump_image(field, NEW_TAG), app="app")
        assert result.changed, (rel, field)
        _assert_only_line_changed(original, target.read_bytes(), field.line)
        target.write_bytes(original)


def _check_manifest_field(repo: Path, target: Path, original: bytes, field: Field) -> None:
    (repo / ".handoff.yaml").unlink(missing_ok=True)
    ref = parse(field.value)
    marker_text = original.decode("utf-8").splitlines(keepends=True)
    line = marker_text[field.line]
    ending = line[len(line.rstrip("\r\n")):]
    if "#" in line:
        # a comment already on the line: reach the field by a helm target on its document instead
        index, keypath = field.keypath.split("|", 1)
        (repo / ".handoff.yaml").write_text(
            f"apps:\n  app:\n    targets:\n      - {{type: helm, path: f.yaml, document: {index}, "
            f"image: {keypath!r}}}\n")
        assert not plan_bump(repo, field.value, app="app").changed
        bump(repo, f"{ref.name}:{NEW_TAG}", app="app")
        _assert_only_line_changed(original, target.read_bytes(), field.line)
        target.write_bytes(original)
        return
    marker_text[field.line] = line.rstrip("\r\n") + " # handoff:image app" + ending
    marked = "".join(marker_text).encode("utf-8")
    target.write_bytes(marked)
    assert not plan_bump(repo, field.value, app="app").changed
    bump(repo, f"{ref.name}:{NEW_TAG}", app="app")
    _assert_only_line_changed(marked, target.read_bytes(), field.line)
    target.write_bytes(original)


def _assert_only_line_changed(before: bytes, after: bytes, line: int) -> None:
    old_lines = before.decode("utf-8").splitlines(keepends=True)
    new_lines = after.decode("utf-8").splitlines(keepends=True)
    assert len(old_lines) == len(new_lines)
    differing = [i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
    assert differing == [line]
    assert NEW_TAG in new_lines[line]


def test_discovery_finds_image_fields_of_every_kind() -> None:
    kinds: dict[str, int] = {}
    for rel in FILES:
        documents = _load(CORPUS / rel)
        for field in discover(documents or []):
            kinds[field.kind] = kinds.get(field.kind, 0) + 1
    assert kinds.get("tag", 0) >= 20 and kinds.get("kustomize", 0) >= 15
    assert kinds.get("image", 0) + kinds.get("doc-image", 0) >= 20
