"""Per target type: find the image fields in a file and write an image reference into them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from handoff.config import Target
from handoff.edit.editor import FileEditor
from handoff.edit.keypath import format_path, mapping_get, mapping_keys, nearest, parse_keypath, resolve
from handoff.edit.model import Change
from handoff.errors import EditError
from handoff.imageref import ImageRef
from handoff.manifests import yamlio
from handoff.manifests.yamlio import MappingNode, Node, ScalarNode, SequenceNode

MARKER = re.compile(
    r"#\s*handoff:(?P<field>image|tag|digest|name)\s+(?P<app>[A-Za-z0-9][\w.-]*)"
    r"(?:\s+env=(?P<env>[\w.-]+))?\s*$"
)
_POD_SPEC = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


@dataclass(frozen=True)
class Marker:
    field: str
    app: str
    env: str | None
    line: int  # 0-based


def first_document(editor: FileEditor) -> Node | None:
    return next((d for d in editor.documents if d is not None), None)


def _write(editor: FileEditor, node: Node, value: str, key_node: ScalarNode | None,
           path: str) -> list[Change]:
    old = node.value if isinstance(node, ScalarNode) else ""
    if editor.set_scalar(node, value, key_node=key_node, path=path):
        return [Change(editor.display, node.start_mark.line + 1, path, str(old), value)]
    return []


# -- helm ---------------------------------------------------------------------------------------------

def helm(editor: FileEditor, target: Target, ref: ImageRef) -> list[Change]:
    root = first_document(editor)
    file = editor.display
    if target.image:
        found = resolve(root, parse_keypath(target.image), file=file)
        assert found.value is not None
        return _write(editor, found.value, str(ref), found.key_node, found.path)
    changes: list[Change] = []
    fields: list[tuple[str | None, str | None]] = [
        (target.registry, ref.path_registry if target.registry else None),
        (target.repository, ref.repository if target.registry else ref.name),
        (target.tag, ref.tag),
    ]
    for keypath, value in fields:
        if keypath and value is not None:
            found = resolve(root, parse_keypath(keypath), file=file)
            assert found.value is not None
            changes += _write(editor, found.value, value, found.key_node, found.path)
    changes += _helm_digest(editor, root, target, ref)
    return changes


def _helm_digest(editor: FileEditor, root: Node | None, target: Target, ref: ImageRef) -> list[Change]:
    file = editor.display
    if not target.digest:
        if ref.digest:
            sibling = target.tag or target.repository or ""
            keys = _sibling_keys(root, sibling, file)
            raise EditError(f"the image has a digest but the target names no digest key (keys near "
                            f"{sibling}: {keys}); add `digest: <key path>` to the target",
                            file=file, key=target.key or None)
        return []
    segments = parse_keypath(target.digest)
    found = resolve(root, segments, file=file, allow_missing_last=True)
    if found.value is None:
        if not ref.digest:
            return []
        parent = found.parent
        if not isinstance(parent, MappingNode):
            raise EditError("cannot add the digest key here", file=file, key=found.path)
        after = None
        if target.tag:
            tag_key = mapping_get(parent, parse_keypath(target.tag)[-1].key or "")
            if tag_key is not None and any(k is tag_key[0] for k, _ in parent.value):
                after = tag_key[0]
        editor.add_key(parent, str(segments[-1]), ref.digest, path=found.path, after=after)
        return [Change(file, parent.start_mark.line + 1, found.path, "", ref.digest)]
    if ref.digest:
        return _write(editor, found.value, ref.digest, found.key_node, found.path)
    old = found.value
    if isinstance(old, ScalarNode) and old.value and yamlio.tag_of(old).endswith(":str"):
        # A new tag with the old digest would still pin the old image: clear it.
        return _write(editor, found.value, "", found.key_node, found.path)
    return []


def _sibling_keys(root: Node | None, keypath: str, file: str) -> str:
    if not keypath:
        return mapping_keys_text(root)
    segments = parse_keypath(keypath)
    try:
        found = resolve(root, segments[:-1], file=file) if len(segments) > 1 else None
    except EditError:
        return mapping_keys_text(root)
    return mapping_keys_text(found.value if found is not None else root)


def mapping_keys_text(node: Node | None) -> str:
    return ", ".join(mapping_keys(node)) if isinstance(node, MappingNode) else "none"


# -- kustomize ----------------------------------------------------------------------------------------

def kustomize(editor: FileEditor, target: Target, ref: ImageRef) -> list[Change]:
    file = editor.display
    name = target.name or ""
    root = first_document(editor)
    if not isinstance(root, MappingNode):
        raise EditError("a kustomization must be a mapping", file=file)
    wanted: list[tuple[str, str | None]] = [
        ("newName", ref.name if ref.name != name else None),
        ("newTag", ref.tag),
        ("digest", ref.digest),
    ]
    new_item = [("name", name)] + [(k, v) for k, v in wanted if v is not None]
    images = mapping_get(root, "images")
    if images is None:
        editor.add_sequence_key(root, "images", [new_item], path="images")
        return [Change(file, root.end_mark.line + 1, f"images[name={name}]", "", str(ref))]
    sequence = images[1]
    if not isinstance(sequence, SequenceNode):
        raise EditError("expected a list of images", file=file, line=sequence.start_mark.line + 1,
                        key="images")
    for item in sequence.value:
        if isinstance(item, MappingNode):
            entry_name = mapping_get(item, "name")
            if entry_name is not None and entry_name[1].value == name:
                return _kustomize_entry(editor, item, name, ref, wanted)
    editor.append_item(sequence, new_item, path="images")
    return [Change(file, sequence.start_mark.line + 1, f"images[name={name}]", "", str(ref))]


def _kustomize_entry(editor: FileEditor, item: MappingNode, name: str, ref: ImageRef,
                     wanted: list[tuple[str, str | None]]) -> list[Change]:
    changes: list[Change] = []
    for key, wanted_value in wanted:
        path = f"images[name={name}].{key}"
        found = mapping_get(item, key)
        value = wanted_value
        if key == "newName" and value is None and found is not None:
            value = ref.name  # an existing newName must follow the image even when it equals name
        if key == "digest" and value is None and found is not None and found[1].value:
            value = ""  # a new tag with the old digest would still pin the old image
        if value is None:
            continue
        if found is None:
            if value:
                editor.add_key(item, key, value, path=path)
                changes.append(Change(editor.display, item.start_mark.line + 1, path, "", value))
            continue
        changes += _write(editor, found[1], value, found[0], path)
    return changes


# -- manifest -----------------------------------------------------------------------------------------

def manifest(editor: FileEditor, target: Target, ref: ImageRef) -> list[Change]:
    changes: list[Change] = []
    seen: list[str] = []
    matched = False
    for document in editor.documents:
        if not isinstance(document, MappingNode):
            continue
        kind = _scalar(mapping_get(document, "kind"))
        metadata = mapping_get(document, "metadata")
        name = _scalar(mapping_get(metadata[1], "name")) if metadata and isinstance(
            metadata[1], MappingNode) else None
        if kind not in _POD_SPEC:
            continue
        seen.append(f"{kind}/{name}")
        if (target.kind and kind != target.kind) or (target.name and name != target.name):
            continue
        for path, container in _containers(document, _POD_SPEC[kind]):
            if _scalar(mapping_get(container, "name")) != target.container:
                continue
            image = mapping_get(container, "image")
            if image is None:
                raise EditError("container has no image key", file=editor.display,
                                line=container.start_mark.line + 1, key=path)
            matched = True
            changes += _write(editor, image[1], str(ref), image[0], f"{kind}/{name}:{path}.image")
    if not matched:
        wanted = f"{target.kind or '*'}/{target.name or '*'} container {target.container}"
        raise EditError(f"no {wanted} found (workloads here: {nearest(target.name or '', seen)})",
                        file=editor.display, key=target.key or None)
    return changes


def _containers(document: MappingNode, spec_path: tuple[str, ...]) -> Iterator[tuple[str, MappingNode]]:
    node: Node | None = document
    for key in spec_path:
        found = mapping_get(node, key) if isinstance(node, MappingNode) else None
        if found is None:
            return
        node = found[1]
    if not isinstance(node, MappingNode):
        return
    for list_key in ("initContainers", "containers"):
        found = mapping_get(node, list_key)
        if found is None or not isinstance(found[1], SequenceNode):
            continue
        for item in found[1].value:
            if isinstance(item, MappingNode):
                name = _scalar(mapping_get(item, "name"))
                yield f"{'.'.join(spec_path)}.{list_key}[name={name}]", item


def _scalar(pair: tuple[ScalarNode, Node] | None) -> str | None:
    if pair is None or not isinstance(pair[1], ScalarNode):
        return None
    return str(pair[1].value)


# -- marker -------------------------------------------------------------------------------------------

def find_markers(text: str) -> list[Marker]:
    markers = []
    for number, line in enumerate(text.splitlines()):
        if "handoff:" in line:
            match = MARKER.search(line)
            if match is not None:
                markers.append(Marker(match["field"], match["app"], match["env"], number))
    return markers


def marker_values(editor: FileEditor) -> dict[int, tuple[Node, ScalarNode | None, str]]:
    """Scalar values by 0-based line (the key's line for mapping values): (value, key, path)."""
    found: dict[int, tuple[Node, ScalarNode | None, str]] = {}
    for index, document in enumerate(editor.documents):
        if document is not None:
            prefix = f"[{index}]" if len(editor.documents) > 1 else ""
            _index_values(document, prefix, found, set())
    return found


def _index_values(node: Node, path: str, out: dict[int, tuple[Node, ScalarNode | None, str]],
                  seen: set[int]) -> None:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        for key, value in node.value:
            child = f"{path}.{key.value}" if path else str(key.value)
            if isinstance(value, ScalarNode):
                out.setdefault(key.start_mark.line, (value, key, child))
            _index_values(value, child, out, seen)
    elif isinstance(node, SequenceNode):
        for position, item in enumerate(node.value):
            if isinstance(item, ScalarNode):
                out.setdefault(item.start_mark.line, (item, None, f"{path}[{position}]"))
            _index_values(item, f"{path}[{position}]", out, seen)


def marker(editor: FileEditor, ref: ImageRef, *, apps: set[str], env: str | None) -> list[Change]:
    values = marker_values(editor)
    changes: list[Change] = []
    for mark in find_markers(editor.text):
        if mark.app not in apps or (env is not None and mark.env is not None and mark.env != env):
            continue
        located = values.get(mark.line)
        if located is None:
            raise EditError(f"marker handoff:{mark.field} {mark.app} is not on a line with a scalar value",
                            file=editor.display, line=mark.line + 1)
        node, key_node, path = located
        value = {"image": str(ref), "tag": ref.tag, "digest": ref.digest, "name": ref.name}[mark.field]
        if mark.field == "digest" and value is None and isinstance(node, ScalarNode) and node.value:
            value = ""
        if value is not None:
            changes += _write(editor, node, value, key_node, path)
    return changes


def format_keypath(text: str) -> str:
    return format_path(parse_keypath(text))
