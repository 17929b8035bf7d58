"""Property: in any generated YAML stream holding an image tag somewhere (a block mapping, a flow
mapping or a flow list of containers, in any document of a multi-document file, beside look-alike
markers inside block scalars), bumping to a new tag and back yields the original bytes, and the first
bump changes only the tag's line."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from handoff.edit.bump import bump
from handoff.edit.scalars import plain_is_string

TAG = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,15}", fullmatch=True)
KEY = st.from_regex(r"[a-z][a-zA-Z0-9_-]{0,8}", fullmatch=True)
PLAIN = st.sampled_from(["x", "1", "true", "1.10", "~", "a b", "http://x", "-", "'q'", '"d"', "é", ""])
COMMENT = st.sampled_from(["", "  # note", " #c", "    # handoff is not here"])


def quoted(value: str, style: str) -> str:
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"' or not plain_is_string(value):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


@st.composite
def scalar_text(draw: st.DrawFn) -> str:
    value = draw(PLAIN)
    return quoted(value, draw(st.sampled_from(["", "'", '"'])))


@st.composite
def block(draw: st.DrawFn, indent: int, depth: int, step: int) -> list[str]:
    """Lines of a block mapping at ``indent``."""
    lines: list[str] = []
    keys = draw(st.lists(KEY, min_size=1, max_size=4, unique=True))
    pad = " " * indent
    for key in keys:
        shape = draw(st.sampled_from(["scalar", "map", "list", "flow", "comment", "block"]
                                     if depth < 3 else ["scalar", "flow", "comment"]))
        if shape == "scalar":
            lines.append(f"{pad}{key}: {draw(scalar_text())}{draw(COMMENT)}")
        elif shape == "comment":
            lines.append(f"{pad}# {key}")
        elif shape == "flow":
            lines.append(f"{pad}{key}: {{a: {draw(scalar_text())}, b: [1, 2]}}{draw(COMMENT)}")
        elif shape == "block":  # a marker look-alike inside a block scalar is text, never a marker
            lines += [f"{pad}{key}: |", f"{pad}{' ' * step}tag: not this one # handoff:tag app",
                      f"{pad}{' ' * step}  kept"]
        elif shape == "map":
            lines.append(f"{pad}{key}:{draw(COMMENT)}")
            lines += draw(block(indent + step, depth + 1, step))
        else:
            lines.append(f"{pad}{key}:")
            dash = indent + draw(st.sampled_from([0, step]))
            for _ in range(draw(st.integers(1, 3))):
                lines.append(f"{' ' * dash}- {draw(scalar_text())}")
    return lines


@st.composite
def document(draw: st.DrawFn) -> tuple[str, str, str]:
    step = draw(st.sampled_from([2, 4]))
    lines = draw(block(0, 0, step))
    tag = draw(TAG)
    style = draw(st.sampled_from(["", "'", '"']))
    indent = " " * step
    shape = draw(st.sampled_from(["block", "flow-map", "flow-containers"]))
    space = draw(st.sampled_from(["", "   "]))
    if shape == "block":
        target = [f"image:{draw(COMMENT)}", f"{indent}repository: ghcr.io/acme/web",
                  f"{indent}tag: {quoted(tag, style)}{space} # handoff:tag app"]
    elif shape == "flow-map":
        target = [f"image: {{repository: ghcr.io/acme/web, tag: {quoted(tag, style)}}}{space} # handoff:tag app"]
    else:
        target = [f"containers: [{{name: app, image: ghcr.io/acme/web:{tag}}}]{space} # handoff:image app"]
    boundaries = [i for i in range(len(lines) + 1) if i == len(lines) or not lines[i].startswith((" ", "-"))]
    position = draw(st.sampled_from(boundaries))
    lines[position:position] = target
    head = draw(st.sampled_from(["", "---\n", "# leading comment\n---\n"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    final = draw(st.sampled_from([newline, ""]))
    before = [line for _ in range(draw(st.integers(0, 2))) for line in [*draw(block(0, 1, step)), "---"]]
    after = [line for _ in range(draw(st.integers(0, 2))) for line in ["---", *draw(block(0, 1, step))]]
    text = head.replace("\n", newline) + newline.join(before + lines + after) + final
    new_tag = draw(TAG)
    # A plain value that needs quotes once (`0`) stays quoted afterwards: not a round trip by design.
    assume(style or not plain_is_string(tag) or plain_is_string(new_tag))
    if shape == "flow-containers":  # the tag inside a whole reference: no quoting of its own
        assume(plain_is_string(f"ghcr.io/acme/web:{tag}") and plain_is_string(f"ghcr.io/acme/web:{new_tag}"))
    return text, tag, new_tag


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document())
def test_bump_and_back_restores_original_bytes(case: tuple[str, str, str]) -> None:
    text, old_tag, new_tag = case
    with tempfile.TemporaryDirectory() as work:
        repo = Path(work)
        path = repo / "values.yaml"
        original = text.encode("utf-8")
        path.write_bytes(original)
        first = bump(repo, f"ghcr.io/acme/web:{new_tag}", app="app")
        assert first.changed == (new_tag != old_tag)
        changed_lines = [a != b for a, b in zip(original.splitlines(), path.read_bytes().splitlines(), strict=True)]
        assert sum(changed_lines) == (1 if first.changed else 0)
        bump(repo, f"ghcr.io/acme/web:{old_tag}", app="app")
        assert path.read_bytes() == original
