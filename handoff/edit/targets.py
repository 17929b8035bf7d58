"""Per target type: find the image fields in a file and write an image reference into them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from handoff.config import Target
from handoff.edit.editor import FileEditor
from handoff.edit.keypath import format_path, mapping_get, mapping_keys, nearest, parse_keypath, resolve
from handoff.edit.markers import MarkedFile
from handoff.edit.model import Change
from handoff.errors import EditError, HandoffError
from handoff.imageref import ImageRef, parse
from handoff.manifests import yamlio
from handoff.manifests.yamlio import MappingNode, Node, ScalarNode, SequenceNode

_POD_SPEC = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Rollout": ("spec", "template", "spec"),  # Argo Rollouts
}


def first_document(editor: FileEditor) -> Node | None:
    return next((d for d in editor.documents if d is not None), None)


def target_document(editor: FileEditor, target: Target) -> Node | None:
    """The document a helm target's key paths start from: the first one, or the one ``document`` names."""
    selector = target.document
    documents = [d for d in editor.documents if d is not None]
    if selector is None:
        if len(documents) > 1 and target.type == "helm":
            return _only_or_first(editor, documents, target)
        return first_document(editor)
    if isinstance(selector, int):
        if selector >= len(editor.documents) or editor.documents[selector] is None:
            raise EditError(f"there is no document {selector} (the file has {len(editor.documents)})",
                            file=editor.display, key=f"{target.key}.document")
        return editor.documents[selector]
    matches = [d for d in documents if _identity(d, selector)]
    if len(matches) != 1:
        found = ", ".join(_describe(d) for d in documents)
        raise EditError(f"{len(matches)} documents match {dict(selector)} (documents here: {found})",
                        file=editor.display, key=f"{target.key}.document")
    return matches[0]


def _only_or_first(editor: FileEditor, documents: list[Node], target: Target) -> Node:
    """Without a selector, a multi-document file is read from the one document holding the key path."""
    keypath = target.image or target.tag or target.repository or target.digest or ""
    holding = []
    for document in documents:
        try:
            resolve(document, parse_keypath(keypath), file=editor.display)
        except EditError:
            continue
        holding.append(document)
    if len(holding) == 1:
        return holding[0]
    found = ", ".join(_describe(d) for d in documents)
    raise EditError(f"{len(holding)} of the file's {len(documents)} documents hold {keypath} (documents: "
                    f"{found}); name one with `document: {{kind: …, name: …}}`", file=editor.display,
                    key=target.key or None)


def _identity(document: Node, selector: Mapping[str, str]) -> bool:
    if not isinstance(document, MappingNode):
        return False
    kind = _scalar(mapping_get(document, "kind"))
    metadata = mapping_get(document, "metadata")
    name = _scalar(mapping_get(metadata[1], "name")) if metadata and isinstance(metadata[1], MappingNode) \
        else None
    return selector.get("kind", kind) == kind and selector.get("name", name) == name


def _describe(document: Node) -> str:
    if not isinstance(document, MappingNode):
        return "(not a mapping)"
    kind = _scalar(mapping_get(document, "kind")) or "?"
    metadata = mapping_get(document, "metadata")
    name = _scalar(mapping_get(metadata[1], "name")) if metadata and isinstance(metadata[1], MappingNode) \
        else None
    return f"{kind}/{name or '?'}"


def _write(editor: FileEditor, node: Node, value: str, key_node: ScalarNode | None,
           path: str) -> list[Change]:
    old = node.value if isinstance(node, ScalarNode) else ""
    if editor.set_scalar(node, value, key_node=key_node, path=path):
        return [Change(editor.display, node.start_mark.line + 1, path, str(old), value)]
    return []


# -- helm ---------------------------------------------------------------------------------------------

def helm(editor: FileEditor, target: Target, ref: ImageRef) -> list[Change]:
    root = target_document(editor, target)
    file = editor.display
    if target.image:
        found = resolve(root, parse_keypath(target.image), file=file)
        assert found.value is not None
        written = override_prefix(found.value) + str(ref)
        return _write(editor, found.value, written, found.key_node, found.path)
    if target.tag and not target.repository:
        _refuse_other_image_tag(root, target.tag, ref, file)
    changes: list[Change] = []
    tag = f"{ref.tag}@{ref.digest}" if target.format == "tag@digest" and ref.tag and ref.digest else ref.tag
    fields: list[tuple[str | None, str | None]] = [
        (target.registry, ref.path_registry if target.registry else None),
        (target.repository, ref.repository if target.registry else ref.name),
        (target.tag, tag),
    ]
    for keypath, value in fields:
        if keypath and value is not None:
            found = resolve(root, parse_keypath(keypath), file=file)
            assert found.value is not None
            if keypath == target.tag:
                _refuse_reference_in_tag(found.value, found.path, file)
            changes += _write(editor, found.value, value, found.key_node, found.path)
    if target.format != "tag@digest":
        changes += _helm_digest(editor, root, target, ref)
    return changes


def override_prefix(node: Node) -> str:
    """``NAME=`` of an Argo CD ``kustomize.images`` override (``nginx=ghcr.io/acme/nginx:1.0``), kept."""
    value = node.value if isinstance(node, ScalarNode) and isinstance(node.value, str) else ""
    name, separator, reference = value.partition("=")
    if not separator or not name or any(c.isspace() for c in name):
        return ""
    try:
        parse(reference)
    except HandoffError:
        return ""
    return f"{name}="


def _refuse_reference_in_tag(node: Node, path: str, file: str) -> None:
    """A tag key holding a whole reference is a mis-declared target: writing a tag there drops the
    repository (declare it as `image:` instead)."""
    if isinstance(node, ScalarNode) and isinstance(node.value, str) and "/" in node.value:
        raise EditError(f"{path} holds {node.value!r}, a whole image reference, not a tag: declare it as the "
                        "target's `image:`", file=file, line=node.start_mark.line + 1, key=path)


def _refuse_other_image_tag(root: Node | None, tag_keypath: str, ref: ImageRef, file: str) -> None:
    """A tag-only target next to a ``repository:`` of another image would bump that image's tag."""
    segments = parse_keypath(tag_keypath)
    if len(segments) < 2:
        return
    try:
        parent = resolve(root, segments[:-1], file=file).value
    except EditError:
        return
    if not isinstance(parent, MappingNode):
        return
    repository = mapping_get(parent, "repository")
    if repository is None or not isinstance(repository[1], ScalarNode) or not repository[1].value:
        return
    registry = _scalar(mapping_get(parent, "registry"))
    name = f"{registry}/{repository[1].value}" if registry else str(repository[1].value)
    try:
        held = parse(f"{name}:x")
    except HandoffError:
        return
    # a registry/org prefix shared by several images (`images.repository: gcr.io/acme`) is not another image
    if not held.same_repository(ref) and not ref.canonical_name.startswith(held.canonical_name + "/"):
        where = format_path(segments[:-1])
        raise EditError(f"the tag {tag_keypath} belongs to {name} ({where}.repository), not {ref.name}; "
                        "name `repository:` in the target to repoint it", file=file,
                        line=repository[1].start_mark.line + 1, key=f"{where}.repository")


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
        # an entry named `postgres:11` matches that tag only; its repository is the part before the tag
        ("newName", ref.name if ref.name not in (name, _without_tag(name)) else None),
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
    # kustomize applies every entry with this name, in order: edit them all the same way, so whichever
    # wins renders the new image
    entries = [item for item in sequence.value if isinstance(item, MappingNode)
               and _scalar(mapping_get(item, "name")) == name]
    if entries:
        return [c for item in entries for c in _kustomize_entry(editor, item, name, ref, wanted)]
    _refuse_same_image_spelled_otherwise(editor, sequence, name)
    editor.append_item(sequence, new_item, path="images")
    return [Change(file, sequence.start_mark.line + 1, f"images[name={name}]", "", str(ref))]


def _refuse_same_image_spelled_otherwise(editor: FileEditor, sequence: SequenceNode, name: str) -> None:
    """kustomize matches ``images[].name`` as written: an entry ``nginx`` is the one that applies to
    ``image: nginx:1.0``, and a new ``docker.io/library/nginx`` entry beside it would change nothing."""
    try:
        wanted = parse(f"{_without_tag(name)}:x")
    except HandoffError:
        return
    for item in sequence.value:
        found = mapping_get(item, "name") if isinstance(item, MappingNode) else None
        if found is None or not isinstance(found[1], ScalarNode):
            continue
        try:
            held = parse(f"{_without_tag(str(found[1].value))}:x")
        except HandoffError:
            continue
        if held.same_repository(wanted):
            raise EditError(f"images has {found[1].value!r}, the same image as the target's name {name!r} "
                            "spelled otherwise; kustomize matches names as written: set the target's `name:` "
                            f"to {found[1].value!r}", file=editor.display, line=found[1].start_mark.line + 1,
                            key="images")


def _kustomize_entry(editor: FileEditor, item: MappingNode, name: str, ref: ImageRef,
                     wanted: list[tuple[str, str | None]]) -> list[Change]:
    found_name = mapping_get(item, "newName")
    if found_name is not None and isinstance(found_name[1], ScalarNode) and _holds_reference(
            str(found_name[1].value)):
        # `newName: repo:tag@digest` carries the whole reference: edit it in place, in the same shape
        return _write(editor, found_name[1], _same_shape(str(found_name[1].value), ref), found_name[0],
                      f"images[name={name}].newName") + _kustomize_fields(editor, item, name, ref, wanted[1:],
                                                                          only_existing=True)
    return _kustomize_fields(editor, item, name, ref, wanted, only_existing=False)


def _without_tag(name: str) -> str:
    last = name.rsplit("/", 1)[-1]
    return name[: len(name) - len(last)] + last.split(":", 1)[0] if ":" in last else name


def _holds_reference(value: str) -> bool:
    last = value.rsplit("/", 1)[-1]
    return "@" in value or ":" in last


def _same_shape(old: str, ref: ImageRef) -> str:
    """``ref`` written like ``old``: a tag only where ``old`` had one (or nothing else pins the image)."""
    old_has_tag = ":" in old.rsplit("/", 1)[-1].split("@", 1)[0]
    text = ref.name
    if ref.tag and (old_has_tag or not ref.digest):
        text += f":{ref.tag}"
    if ref.digest:
        text += f"@{ref.digest}"
    return text


def _kustomize_fields(editor: FileEditor, item: MappingNode, name: str, ref: ImageRef,
                      wanted: list[tuple[str, str | None]], *, only_existing: bool) -> list[Change]:
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
            if value and not only_existing:
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
        for path, image in _image_fields(document, _POD_SPEC[kind], target, editor.display):
            matched = True
            changes += _write(editor, image[1], str(ref), image[0], f"{kind}/{name}:{path}")
    if not matched:
        _refuse_workload_ref(editor, target)
        what = f"container {target.container}" if target.container else f"image volume {target.volume}"
        wanted = f"{target.kind or '*'}/{target.name or '*'} {what}"
        raise EditError(f"no {wanted} found (workloads here: {nearest(target.name or '', seen)})",
                        file=editor.display, key=target.key or None)
    return changes


def _refuse_workload_ref(editor: FileEditor, target: Target) -> None:
    """An Argo Rollout with ``spec.workloadRef`` has no pod template: name the workload that has it."""
    if target.kind not in (None, "Rollout"):
        return
    for document in editor.documents:
        if not isinstance(document, MappingNode) or _scalar(mapping_get(document, "kind")) != "Rollout":
            continue
        spec = mapping_get(document, "spec")
        ref = mapping_get(spec[1], "workloadRef") if spec and isinstance(spec[1], MappingNode) else None
        if ref is None or not isinstance(ref[1], MappingNode):
            continue
        kind, name = _scalar(mapping_get(ref[1], "kind")), _scalar(mapping_get(ref[1], "name"))
        raise EditError(f"the Rollout takes its pod template from {kind}/{name} (spec.workloadRef): target "
                        f"`kind: {kind}, name: {name}` instead", file=editor.display,
                        line=ref[0].start_mark.line + 1, key=target.key or None)


def _image_fields(document: MappingNode, spec_path: tuple[str, ...], target: Target,
                  file: str) -> Iterator[tuple[str, tuple[ScalarNode, Node]]]:
    """The image fields the target names: a container's ``image`` or an image volume's ``reference``."""
    if target.volume:
        for path, volume in _pod_list(document, spec_path, ("volumes",)):
            source = mapping_get(volume, "image")
            if _scalar(mapping_get(volume, "name")) == target.volume and source is not None \
                    and isinstance(source[1], MappingNode):
                reference = mapping_get(source[1], "reference")
                if reference is None:
                    raise EditError("image volume has no reference key", file=file,
                                    line=source[1].start_mark.line + 1, key=f"{path}.image")
                yield f"{path}.image.reference", reference
        return
    for path, container in _containers(document, spec_path):
        if _scalar(mapping_get(container, "name")) != target.container:
            continue
        image = mapping_get(container, "image")
        if image is None:
            raise EditError("container has no image key", file=file, line=container.start_mark.line + 1,
                            key=path)
        yield f"{path}.image", image


def _containers(document: MappingNode, spec_path: tuple[str, ...]) -> Iterator[tuple[str, MappingNode]]:
    return _pod_list(document, spec_path, ("initContainers", "containers", "ephemeralContainers"))


def _pod_list(document: MappingNode, spec_path: tuple[str, ...],
              list_keys: tuple[str, ...]) -> Iterator[tuple[str, MappingNode]]:
    node: Node | None = document
    for key in spec_path:
        found = mapping_get(node, key) if isinstance(node, MappingNode) else None
        if found is None:
            return
        node = found[1]
    if not isinstance(node, MappingNode):
        return
    for list_key in list_keys:
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

def marker(editor: FileEditor, ref: ImageRef, *, apps: set[str], env: str | None,
           held_back: frozenset[str] = frozenset()) -> list[Change]:
    """Write every marker of ``apps`` applying to ``env``, except those scoped to a ``held_back``
    (promote-only) environment."""
    changes: list[Change] = []
    for binding in MarkedFile(editor.display, editor.text, editor.documents).bindings(apps, env):
        if binding.marker.env in held_back:
            continue
        field, node = binding.marker.field, binding.node
        value = {"image": str(ref), "tag": ref.tag, "digest": ref.digest, "name": ref.name}[field]
        if field == "digest" and value is None and node.value:
            value = ""
        if value is not None:
            changes += _write(editor, node, value, binding.key_node, binding.path)
    return changes


def format_keypath(text: str) -> str:
    return format_path(parse_keypath(text))
