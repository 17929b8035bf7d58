"""Read the image a target declares now (the inverse of writing it), for ``edit.bump.current_image``."""

from __future__ import annotations

from handoff.config import Target
from handoff.edit import targets as target_kinds
from handoff.edit.editor import FileEditor
from handoff.edit.keypath import mapping_get, parse_keypath, resolve
from handoff.edit.markers import MarkedFile
from handoff.errors import EditError, ImageNotDeclared, ImageRefError
from handoff.imageref import ImageRef, parse
from handoff.manifests import yamlio
from handoff.manifests.yamlio import MappingNode, Node, ScalarNode, SequenceNode


def read_target(editor: FileEditor, target: Target, app: str, env: str | None, *,
                declared: str | None = None) -> ImageRef:
    """The image ``target`` holds now. A helm target holding only a tag takes its repository from the
    app's ``declared`` image (the chart's defaults hold it, which handoff does not render here)."""
    root = target_kinds.target_document(editor, target)

    def value(keypath: str | None) -> str | None:
        if not keypath:
            return None
        found = resolve(root, parse_keypath(keypath), file=editor.display, allow_missing_last=True)
        node = found.value
        return str(node.value) or None if node is not None and isinstance(node.value, str) else None

    if target.type == "helm":
        if target.image:
            whole = value(target.image) or ""
            found = resolve(root, parse_keypath(target.image), file=editor.display, allow_missing_last=True)
            prefix = target_kinds.override_prefix(found.value) if found.value is not None else ""
            return _compose(whole[len(prefix):], None, None, editor.display)
        registry, repository = value(target.registry), value(target.repository) or ""
        name = f"{registry}/{repository}" if registry else repository
        if not name and declared:
            name = parse(declared).name
        tag, digest = value(target.tag), value(target.digest)
        if target.format == "tag@digest" and tag and "@" in tag:
            tag, digest = tag.split("@", 1)
        return _compose(name, tag, digest, editor.display)
    if target.type == "kustomize":
        return _kustomize_image(editor, target)
    if target.type == "manifest":
        recorder = _Recorder(editor.display, editor.text, editor.documents, editor.limits)
        target_kinds.manifest(recorder, target, ImageRef("", "x", "z"))
        return parse(recorder.seen[0])
    return markers_image([editor], app, env)


def _compose(name: str, tag: str | None, digest: str | None, file: str) -> ImageRef:
    text = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    try:
        return parse(text)
    except ImageRefError as e:
        raise EditError(f"the declared image is not valid: {e.message}", file=file) from e


def _kustomize_image(editor: FileEditor, target: Target) -> ImageRef:
    root = target_kinds.first_document(editor)
    for item in _kustomize_items(root):
        fields = {str(k.value): str(v.value) for k, v in item.value if hasattr(v, "value")}
        if fields.get("name") == target.name:
            return _compose(fields.get("newName") or fields["name"], fields.get("newTag") or None,
                            fields.get("digest") or None, editor.display)
    raise ImageNotDeclared(f"no images entry named {target.name!r}", file=editor.display)


def _kustomize_items(root: Node | None) -> list[MappingNode]:
    if not isinstance(root, MappingNode):
        return []
    images = mapping_get(root, "images")
    if images is None or not isinstance(images[1], SequenceNode):
        return []
    return [i for i in images[1].value if isinstance(i, MappingNode)]


def markers_image(editors: list[FileEditor], app: str, env: str | None) -> ImageRef:
    fields: dict[str, str] = {}
    where: dict[str, tuple[str, int]] = {}
    for editor in editors:
        for binding in MarkedFile(editor.display, editor.text, editor.documents).bindings({app}, env):
            fields.setdefault(binding.marker.field, str(binding.node.value))
            where.setdefault(binding.marker.field, (editor.display, binding.marker.line + 1))
    if "image" in fields:
        try:
            return parse(fields["image"])
        except ImageRefError as e:
            file, line = where["image"]
            raise ImageRefError(e.message, file=file, line=line) from e
    if "name" not in fields:
        raise ImageNotDeclared(f"no `# handoff:image {app}` or `# handoff:name {app}` marker found")
    return _compose(fields["name"], fields.get("tag") or None, fields.get("digest") or None,
                    editors[0].display if editors else "")


class _Recorder(FileEditor):
    """A FileEditor that records the values it would overwrite instead of editing."""

    def __init__(self, display: str, text: str, documents: list[Node | None], limits: yamlio.Limits) -> None:
        super().__init__(display, text, documents, limits)
        self.seen: list[str] = []

    def set_scalar(self, node: Node, value: str, *, key_node: ScalarNode | None, path: str) -> bool:
        self.seen.append(str(getattr(node, "value", "")))
        return False
