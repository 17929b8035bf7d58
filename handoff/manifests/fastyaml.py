"""The fast path of YAML loading: a Rust parser (``yaml_rs``) for texts where it must agree with
Kubernetes' own YAML reading, and ``None`` (use the exact loader) everywhere else.

``yaml_rs`` reads YAML 1.2, Kubernetes reads go-yaml v2 (see ``scalars``). For plain scalars the two
differ only on: the words y/n/yes/no/on/off (booleans for Kubernetes, strings in 1.2), leading-zero
octals (``0777``), some underscores (``_1``, ``.5_0``), ``.inf``/``.nan``, huge integers, and plain
keys that are not strings. Merge keys, anchors/aliases, tags, directives, ``...`` and a BOM are left
to the exact loader too (it also bounds alias expansion), and so is a block scalar in a text without
a final newline (``yaml_rs`` adds one). A text in which a conservative scan finds none of these
parses identically on both paths (a property test checks this); any parse error, duplicate key or
depth overflow also falls back, so findings and their positions always come from the exact loader.
"""

from __future__ import annotations

import re
from typing import Any

from handoff.manifests.bounds import DEFAULT_MAX_DEPTH

try:
    import yaml_rs
except ImportError:  # optional speed-up: without it every text takes the exact path
    yaml_rs = None  # type: ignore[assignment]

# What may precede a plain scalar: whitespace or a flow indicator (after "- ", "? " and ": " it is a
# space; flow mappings may write {"a":yes}).
_BEFORE = r"[\s\[{,:]"
_SIGNED = r"[\s\[{,:][-+]"
_VALUE_END = r"(?=[ \t]*(?:$|[,\]}#:]))"
_KEY_END = r"[ \t]*:(?=[ \t]|$)"


# The rest of a plain key that starts like a number (``1:``, ``-1 :``, ``~:``, ``[1,2]:``): up to the end of
# the token and the key's colon. Written as "[^\s:]*" it rescanned the rest of a line from every digit of
# "[1,1,1,...]" (quadratic: 20,000 items took 10 s). It stops instead before the next place the rule can
# start ("[", "{" or "," then a digit, sign, dot or tilde), which that place then tries: each character
# is read once, and the line is risky exactly when it was (tests/security/test_risky_scan.py).
_NUM = "[-+.~0-9]"
_NUMERIC_KEY_REST = rf"(?:[^\s:\[{{,]|[\[{{,](?!{_NUM}))*+[ \t]*+:(?=[ \t]|$)"


# A plain scalar that starts like a number and holds an underscore: go-yaml drops the underscores and
# reads a number where YAML 1.2 reads a string (1_000, .5_0, 1e_3, 0x_1F). Only when the whole token
# is made of what a Go number can hold (digits, hex digits, base prefixes, dot, exponent, signs):
# "--bind_ip" or "{{ .head_sha }}" are strings for both, and need not leave the fast path. Possessive
# runs over characters no rule starts after: linear in the text.
_GO_NUMBER = "0-9a-fA-FxXoObB.+-"
_UNDERSCORED_NUMBER = rf"[{_GO_NUMBER}]*+_[_{_GO_NUMBER}]*+{_VALUE_END}"


def _rules() -> list[tuple[str, str, str]]:
    """``(first character, what may precede it, the rest)`` of every risky plain token. Every rest is
    bounded or reads each character of the text once, so a search is linear in the text."""
    rules: list[tuple[str, str, str]] = []
    words = {"y": ["", "es"], "Y": ["", "es", "ES"], "n": ["", "o"], "N": ["", "o", "O"],
             "o": ["n", "ff"], "O": ["n", "N", "ff", "FF"]}
    rules += [(c, _BEFORE, f"(?:{'|'.join(rest)}){_VALUE_END}") for c, rest in words.items()]
    # plain keys that are booleans, null or numbers become JSON strings ("true", "null", "1")
    key_words = {"t": ["rue"], "T": ["rue", "RUE"], "f": ["alse"], "F": ["alse", "ALSE"],
                 "n": ["ull"], "N": ["ull", "ULL"]}
    rules += [(c, _BEFORE, f"(?:{'|'.join(rest)}){_KEY_END}") for c, rest in key_words.items()]
    rules += [(c, _BEFORE, _NUMERIC_KEY_REST) for c in "0123456789-+.~"]
    rules += [(c, _BEFORE, "[0-9]{18}") for c in "123456789"]  # past int64: go-yaml makes it a float
    rules += [
        (":", r"[\s\[{,]", r"(?=[ \t]|$)"),  # an empty (null) key; also "key : value", rare
        ("0", _BEFORE, "[0-9_]"), ("0", _SIGNED, "[0-9_]"),  # 0777, 0_777: octal for Kubernetes, not 1.2
        # _1, .5_0, 1e_3: go-yaml's underscore handling differs (strings or numbers where YAML 1.2 differs)
        ("_", _BEFORE, "[0-9_.]"), *((c, _BEFORE, _UNDERSCORED_NUMBER) for c in ".+-0123456789"),
        (".", _BEFORE, "(?:inf|Inf|INF|nan|NaN|NAN)"), (".", _SIGNED, "(?:inf|Inf|INF)"),
        ("?", r"\s", r"(?=[ \t]|$)"),  # complex keys
        ("!", _BEFORE, r"\S"), ("&", _BEFORE, r"\w"), ("*", _BEFORE, r"\w"),  # tags, anchors, aliases
    ]
    return rules


def compile_rules(rules: list[tuple[str, str, str]]) -> re.Pattern[str]:
    """One regex with one alternative per first character, each a plain literal, so ``re`` can skip
    ahead with its first-character set instead of trying every position (this runs on every text)."""
    by_first: dict[str, list[str]] = {}
    for first, before, rest in rules:
        literal = re.escape(first)
        behind = f"(?<={before}{literal})" if before else ""
        by_first.setdefault(literal, []).append(behind + rest)
    return re.compile("|".join(f"{c}(?:{'|'.join(rests)})" for c, rests in by_first.items()), re.MULTILINE)


RULES = _rules()
_RISKY = compile_rules(RULES)


def risky(text: str) -> bool:
    """True when a plain token of ``text`` may read differently in YAML 1.2 and for Kubernetes (see the
    module docstring); time linear in ``text``."""
    return _RISKY.search("\n" + text) is not None  # the newline gives the first token a predecessor


_RISKY_LITERALS = ("<<", "\n%", "\n...", "\ufeff")  # merge keys, directives, document ends, BOM
_CONTENT_LINE = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)


def available() -> bool:
    return yaml_rs is not None


def fast_documents(text: str, max_depth: int = DEFAULT_MAX_DEPTH) -> list[tuple[Any, int, int]] | None:
    """``[(data, first line, index among all documents)]``, or None when the exact loader must decide
    (also when the data nests deeper than ``max_depth``: the exact loader reports that)."""
    if yaml_rs is None or text.startswith("%") or any(x in text for x in _RISKY_LITERALS) \
            or (not text.endswith("\n") and ("|" in text or ">" in text)) \
            or risky(text):
        return None
    chunks = document_spans(text)
    docs: list[tuple[Any, int, int]] = []
    lines = LineCounter(text)
    policy = yaml_rs.DuplicateKeyPolicy.Error
    try:
        for index, (begin, end) in enumerate(chunks):
            chunk = text[begin:end]
            data = yaml_rs.loads(chunk, parse_datetime=False, duplicate_key_policy=policy)
            if data is not None:
                if _could_nest_deeper(text, begin, end, max_depth) and _deeper(data, max_depth):
                    return None
                docs.append((data, _first_line(text, begin, end, lines), index))
    except (yaml_rs.YAMLDecodeError, ValueError, RecursionError):
        return None
    return docs


def _could_nest_deeper(text: str, begin: int, end: int, max_depth: int) -> bool:
    """False when the document ``text[begin:end]`` certainly nests at most ``max_depth`` levels:
    block levels need a deeper indent (two per column at most: a mapping and its sequence; YAML
    indents with spaces only), plus ``- - x`` runs on one line, plus every flow opener. Plain
    substring scans; only a document that fails them pays for a walk of its data."""
    indent, dashes, flows = max_depth * 3 // 10, max(1, max_depth // 14), max_depth * 29 // 100
    return (text.count("[", begin, end) + text.count("{", begin, end) >= flows
            or text.find("\n" + " " * indent, begin, end) >= 0
            or text.find("- " * dashes, begin, end) >= 0 or text.find("-\t", begin, end) >= 0)


def _deeper(data: Any, max_depth: int) -> bool:
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if depth >= max_depth:
            return True
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return False


def document_spans(text: str) -> list[tuple[int, int]]:
    """``(begin, end)`` of every document, in order, as PyYAML counts them (empty ``---`` documents
    included), for texts without directives, ``...`` or line breaks other than LF and CRLF (the
    caller checks: see ``splittable``)."""
    starts = _document_starts(text)
    spans: list[tuple[int, int]] = []
    head_end = starts[0] if starts else len(text)
    if _CONTENT_LINE.search(text, 0, head_end):  # content before the first '---' is a document
        spans.append((0, head_end))
    spans.extend(zip(starts, [*starts[1:], len(text)][:len(starts)], strict=True))
    return spans


_UNSPLITTABLE = ("\n%", "\n...", "\ufeff", "\x85", "\u2028", "\u2029")


def splittable(text: str) -> bool:
    """True when ``document_spans`` cuts ``text`` where PyYAML does: no directives or ``...`` (they
    bind documents together), no BOM and no line break PyYAML knows but the cut does not (CR alone,
    NEL, LS, PS)."""
    return not (text.startswith(("%", "...")) or any(x in text for x in _UNSPLITTABLE)
                or text.count("\r") != text.count("\r\n"))


def _document_starts(text: str) -> list[int]:
    """Offsets of every '---' document marker (a line that is '---' or starts with '--- ')."""
    starts: list[int] = []
    at = 0 if text.startswith("---") else text.find("\n---")
    while at >= 0:
        begin = at if at == 0 and text.startswith("---") else at + 1
        after = text[begin + 3:begin + 4]
        if after in ("", "\n", "\r", " ", "\t"):
            starts.append(begin)
        at = text.find("\n---", begin + 3)
    return starts


class LineCounter:
    """1-based line numbers of offsets asked in increasing order, each newline counted once (a
    stream of N documents costs O(len(text)), not O(N * len(text)))."""

    __slots__ = ("_line", "_offset", "_text", "scanned")

    def __init__(self, text: str) -> None:
        self._text = text
        self._offset = 0
        self._line = 1
        self.scanned = 0  # characters counted so far: at most len(text)

    def line_at(self, offset: int) -> int:
        if offset < self._offset:  # never happens for documents in order; stay correct anyway
            self._offset, self._line = 0, 1
        self._line += self._text.count("\n", self._offset, offset)
        self.scanned += offset - self._offset
        self._offset = offset
        return self._line


def _first_line(text: str, begin: int, end: int, lines: LineCounter) -> int:
    """The 1-based line of a document's first node, as PyYAML reports it."""
    pos = begin
    if text.startswith("---", begin):
        marker_end = text.find("\n", begin, end)
        marker_end = end if marker_end < 0 else marker_end
        rest = text[begin + 3:marker_end].strip()
        if rest and not rest.startswith("#"):  # "--- |" : the node starts on the marker's line
            return lines.line_at(begin)
        pos = marker_end
    match = _CONTENT_LINE.search(text, pos, end)
    return lines.line_at(match.end() - 1 if match else begin)
