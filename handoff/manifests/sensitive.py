"""Sensitive values: which fields of a rendered object hold secrets, and how to show them without
their value.

A ``Secret``'s ``data`` and ``stringData`` values are always sensitive; a config may declare more
(``sensitive: [{kind: ConfigMap, path: data.password}]``). Wherever handoff shows an object (the
rendered diff, findings, status, Events) a sensitive value is replaced by ``<secret sha256:1a2b3c4d>``
(with ``changed``/``added``/``removed`` in a diff): the key stays visible so reviewers see what moved,
the value never is. The hash covers the object's identity and the key as well as the value, so equal
passwords in two Secrets do not look alike and no table of hashed common values applies; it is short
(32 bits) on purpose: enough to tell a change, too short to confirm a guess with any confidence.

Everything else that quotes a value goes through ``excerpt``: at most ``MAX_EXCERPT`` characters.

A sensitive value may also be rendered into another field (an env var set from the same Helm value).
``masked_object`` therefore masks, in every other string of an object it shows, each known sensitive
value before the object is serialised: a serialiser escapes (``\\xE9``, ``\\t``), folds or quotes
what it writes, and a value searched for in its output is always one form behind. ``scrub``, for free
text (messages, a file diff), masks the raw forms and every quoted scalar that decodes to one.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Literal, Protocol

import yaml

from handoff.errors import RenderError
from handoff.manifests.yamldocs import file_limits, load_documents, written_scalars
from handoff.redact import MASK, encoded_forms, registered
from handoff.report.model import ObjectRef

MAX_EXCERPT = 40
# values shorter than this are not searched for in free text: "a" or "1" would mask half a message
MIN_SCRUBBED_LENGTH = 4
# each value costs its forms and their share of one masking regex (~20 KB measured): 5,000 is ~100 MiB
MAX_SENSITIVE_VALUES = 5_000
Change = Literal["changed", "added", "removed", ""]


@dataclass(frozen=True)
class SensitiveField:
    """Values at ``path`` (dotted; ``*`` matches any one key or list item) of objects of ``kind``."""

    kind: str
    path: str

    @property
    def parts(self) -> tuple[str, ...]:
        """The path's keys; ``\\.`` is a dot inside a key (``data.application\\.properties``)."""
        return tuple(p.replace("\0", ".") for p in self.path.replace("\\.", "\0").split("."))


BUILTIN_FIELDS = (SensitiveField("Secret", "data.*"), SensitiveField("Secret", "stringData.*"))


def rules_for(declared: Iterable[SensitiveField] = ()) -> tuple[SensitiveField, ...]:
    """The built-in fields plus ``declared`` (a config's ``sensitive:``)."""
    return BUILTIN_FIELDS + tuple(f for f in declared if f not in BUILTIN_FIELDS)


Trail = tuple[str | int, ...]
Rules = Sequence[SensitiveField]


def _walk(node: Any, parts: Sequence[str], trail: Trail) -> Iterator[tuple[Trail, Any]]:
    if not parts:
        yield trail, node
        return
    head, rest = parts[0], parts[1:]
    if isinstance(node, Mapping):
        keys = list(node) if head == "*" else [head] if head in node else []
        for key in keys:
            yield from _walk(node[key], rest, (*trail, str(key)))
    elif isinstance(node, list):
        wanted = head.isdigit() and int(head) < len(node)
        indexes = range(len(node)) if head == "*" else [int(head)] if wanted else []
        for index in indexes:
            yield from _walk(node[index], rest, (*trail, index))


def dotted(trail: Sequence[str | int]) -> str:
    """``("data", "password")`` → ``data.password``; list items as ``[0]``."""
    out = ""
    for part in trail:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _sensitive_trails(obj: Mapping[str, Any], rules: Rules) -> dict[Trail, Any]:
    kind = obj.get("kind")
    found: dict[Trail, Any] = {}
    for rule in rules:
        if rule.kind == kind:
            found.update(_walk(obj, rule.parts, ()))
    return found


def sensitive_values(obj: Mapping[str, Any], rules: Rules = BUILTIN_FIELDS) -> dict[str, Any]:
    """``dotted path → value`` of every sensitive value in ``obj``."""
    return {dotted(trail): value for trail, value in _sensitive_trails(obj, rules).items()}


def is_sensitive_path(obj: Mapping[str, Any], path: str, rules: Rules = BUILTIN_FIELDS) -> bool:
    """Whether ``path`` is a sensitive value, lies inside one, or contains one (then showing it
    would show the value too)."""
    for sensitive in sensitive_values(obj, rules):
        if path == sensitive or path.startswith((sensitive + ".", sensitive + "[")) \
                or sensitive.startswith((path + ".", path + "[")) or path == "":
            return True
    return False


def path_is_sensitive(kind: str, path: str, rules: Rules = BUILTIN_FIELDS) -> bool:
    """Whether the dotted ``path`` of an object of ``kind`` is, lies inside or holds a sensitive
    value, by the rules alone (for paths reported without their object, such as drift)."""
    for rule in rules:
        if rule.kind != kind:
            continue
        if _at_or_inside(rule.parts, path) or ".".join(rule.parts).startswith(path + "."):
            return True
    return False


_PART_END = re.compile(r"[.\[]|$")


def _at_or_inside(parts: Sequence[str], path: str) -> bool:
    """Whether ``path`` starts with ``parts`` joined by dots (each ``*`` one or more characters, dots too),
    ending at a ``.``, a ``[`` or the end. Matched literal by literal, each at its leftmost place, which is
    what a backtracking regex of ``.+?`` per ``*`` answers, in linear time: that regex took 18 s for four
    stars and a 400-part drift path. (Unlike ``.``, a star also spans a newline in a key: masks more.)"""
    literals = [""]  # the text before, between and after the stars
    for i, part in enumerate(parts):
        dot = "." if i else ""
        if part == "*":
            literals[-1] += dot
            literals.append("")
        else:
            literals[-1] += dot + part
    if not path.startswith(literals[0]):
        return False
    at = len(literals[0])
    for literal in literals[1:-1]:
        found = path.find(literal, at + 1)  # a star takes at least one character
        if found < 0:
            return False
        at = found + len(literal)
    if len(literals) == 1:
        return _PART_END.match(path, at) is not None
    last = literals[-1]
    found = path.find(last, at + 1)
    while found >= 0:
        if _PART_END.match(path, found + len(last)):
            return True
        found = path.find(last, found + 1)
    return False


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def fingerprint(obj: Mapping[str, Any], path: str, value: Any) -> str:
    """Eight hex digits of sha256 over the object's identity, the key and the value."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    names = (obj.get("kind"), meta.get("namespace") or "", meta.get("name"), path)
    identity = "\0".join(str(x) for x in names)
    return hashlib.sha256(f"{identity}\0{_as_text(value)}".encode()).hexdigest()[:8]


def mask(obj: Mapping[str, Any], path: str, value: Any, change: Change = "") -> str:
    """``<secret sha256:1a2b3c4d changed>``: what is shown in place of a sensitive value."""
    word = f" {change}" if change else ""
    return f"<secret sha256:{fingerprint(obj, path, value)}{word}>"


def masked_object(obj: Mapping[str, Any], rules: Rules = BUILTIN_FIELDS,
                  other: Mapping[str, Any] | None = None, *,
                  side: Literal["before", "after"] = "after", known: KnownValues | None = None) -> Any:
    """A copy of ``obj`` with every sensitive value masked: what to serialise wherever an object is
    shown. With ``other`` (the same object on the other side of a diff, or ``{}`` when it is not there)
    each mask says how the value moved: the ``after`` side says ``changed``/``added``, the ``before``
    side ``removed``. With ``known`` (the ``secret_strings`` of every object shown beside it) each other
    string, key or value, holding one of those values (or a secret ``redact`` holds) shows its mask
    there instead, in the structure, so no escaping, folding or quoting a serialiser does can show it."""
    values = _sensitive_trails(obj, rules)
    masker = known if known is not None and known.pattern is not None else None
    if not values and masker is None:
        return obj
    theirs = _sensitive_trails(other, rules) if other is not None else None
    copy: Any = json.loads(json.dumps(obj))
    for trail, value in values.items():
        change: Change = ""
        if theirs is not None:
            if trail not in theirs:
                change = "added" if side == "after" else "removed"
            elif side == "after" and theirs[trail] != value:
                change = "changed"
        _replace(copy, trail, mask(obj, dotted(trail), value, change))
    return copy if masker is None else _masked_strings(copy, masker)


def _replace(node: Any, trail: Trail, text: str) -> None:
    for part in trail[:-1]:
        node = node[part]
    node[trail[-1]] = text


def _masked_strings(node: Any, masker: KnownValues) -> Any:
    """``node`` with every key and string (the masks of sensitive values aside) masked by ``masker``."""
    if isinstance(node, dict):
        return {masker.mask(str(key)): _masked_strings(value, masker) for key, value in node.items()}
    if isinstance(node, list):
        return [_masked_strings(item, masker) for item in node]
    return masker.mask(node) if isinstance(node, str) else node


def secret_strings(objects: Iterable[Mapping[str, Any]], rules: Rules = BUILTIN_FIELDS) -> dict[str, str]:
    """``text → mask`` for every sensitive value (and, for a Secret's base64 ``data``, its decoded
    text) long enough to be searched for in free text such as an error message."""
    found: dict[str, str] = {}
    count = 0
    for obj in objects:
        for path, value in sensitive_values(obj, rules).items():
            count += 1
            if count > MAX_SENSITIVE_VALUES:
                raise RenderError(f"more than {MAX_SENSITIVE_VALUES:,} sensitive values (Secret data, "
                                  "declared sensitive fields) in one render: each is masked in every output, "
                                  "and so many would not fit the reconciler's 256Mi; refusing")
            shown = mask(obj, path, value)
            for text in _forms(obj, path, value):
                if len(text) >= MIN_SCRUBBED_LENGTH:
                    found.setdefault(text, shown)
    return found


class HoldsObject(Protocol):
    """A rendered object (``manifests.model.RenderedObject``, a policy's ``PolicyObject``)."""

    @property
    def obj(self) -> Mapping[str, Any]: ...


_NO_SECRETS: Mapping[str, str] = MappingProxyType({})


def object_secret_strings(item: HoldsObject, rules: Rules = BUILTIN_FIELDS) -> Mapping[str, str]:
    """``secret_strings([item.obj], rules)``, worked out once per object and rules and kept on it: a
    run scrubs each invalid object's findings, then masks the schema report, the parse findings and
    the policy report with the secrets of every object (a walk of every object's sensitive fields,
    hashing and encoding each value, for each)."""
    held = getattr(item, "__dict__", None)
    cached: tuple[Rules, Mapping[str, str]] | None = held.get("_secrets") if held is not None else None
    if cached is not None and (cached[0] is rules or cached[0] == rules):
        return cached[1]
    found = secret_strings([item.obj], rules) or _NO_SECRETS
    if held is not None:
        object.__setattr__(item, "_secrets", (rules, found))  # a frozen dataclass: its values never change
    return found


def held_secret_strings(items: Iterable[HoldsObject], rules: Rules = BUILTIN_FIELDS) -> dict[str, str]:
    """``secret_strings(i.obj for i in items)`` from each object's ``object_secret_strings`` (the same
    texts, the first object's mask for a text two objects hold, in the same order)."""
    found: dict[str, str] = {}
    for item in items:
        for text, shown in object_secret_strings(item, rules).items():
            found.setdefault(text, shown)
    return found


def _forms(obj: Mapping[str, Any], path: str, value: Any) -> Iterator[str]:
    texts = [_as_text(value)]
    if obj.get("kind") == "Secret" and path.startswith("data.") and isinstance(value, str):
        # line breaks ignored, as the API server does (``base64`` wraps at 76 columns)
        with contextlib.suppress(binascii.Error, UnicodeDecodeError):
            texts.append(base64.b64decode("".join(value.split()), validate=True).decode("utf-8"))
    # a value read from a file ends in a line break its copies elsewhere (``| trim``, a DSN) lack
    texts += [t.strip() for t in texts if t.strip() != t]
    yield from _numeric_forms(value)
    for text in texts:
        yield text
        yield from _escaped_forms(text)
        yield from _encoded_forms(text)


def _encoded_forms(text: str) -> Iterator[str]:
    """``text`` as a template's ``b64enc``, ``b32enc``, ``urlquery`` or ``printf "%x"`` writes it into another
    field (``redact.encoded_forms``, the one list); ``KnownValues`` matches the base32 and hex forms in any
    case, since ``lower``/``upper`` of them decode to the same bytes."""
    yield from sorted(encoded_forms(text) - {text})


def _numeric_forms(value: Any) -> Iterator[str]:
    """A number as a JSON or schema library may print it after reading it as a float (a 20-digit
    integer as ``9.007199254740994e+19`` or ``90071992547409936384.0``): a second line of defence,
    since findings never quote a sensitive value's own text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    with contextlib.suppress(OverflowError, ValueError):
        number = float(value)
        yield repr(number)
        yield f"{number:.1f}"
        if number.is_integer():
            yield str(int(number))


_MIN_MATERIAL_LINE = 16


def _escaped_forms(text: str) -> Iterator[str]:
    """``text`` as JSON and YAML write it inside quotes (``caf\\u00e9``, ``caf\\xE9``, ``tab\\there``), and
    each line of a value of several lines (a block scalar shows them one by one)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return  # nothing a writer escapes: every form is the raw one
    yield json.dumps(text)[1:-1]
    yield json.dumps(text, ensure_ascii=False)[1:-1]
    for unicode in (True, False):
        dumped = yaml.dump(text, Dumper=_DUMPER, default_style='"', allow_unicode=unicode, width=1 << 30)
        yield dumped.rstrip("\n").removesuffix("...").rstrip("\n")[1:-1]
    if "\n" in text:  # only lines that look like key material: a config's lines are ordinary text
        yield from (line.strip() for line in text.splitlines()
                    if len(line.strip()) >= _MIN_MATERIAL_LINE and not any(c.isspace() for c in line.strip()))


# quoted scalars a YAML, JSON or repr writer may have escaped; a line break and a diff's line prefix
# may sit inside a folded one
_QUOTED_SCALAR = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'', re.DOTALL)
_DIFF_PREFIX = re.compile(r"\n[ +-]")
_MASKED = re.compile(r"<secret(?: sha256:[0-9a-f]{8}(?: changed| added| removed)?)?>")
# a known text that could be a base32 or hex form: matched ignoring case (decoders take either case)
_CASELESS = re.compile(r"[A-Z2-7]+=*|[0-9a-fA-F]+")


class KnownValues:
    """Masks known values (``text → mask``) and the secrets the redaction layer holds in one string, raw
    and inside any quoted scalar that decodes to one."""

    def __init__(self, known: Mapping[str, str]) -> None:
        every = {**dict.fromkeys(registered(), MASK), **known}
        self.known: dict[str, str] = {}
        for key, shown in every.items():
            # a match never takes a line break at its ends: that break may be the diff's own
            self.known.setdefault(key.strip("\r\n"), shown)
        self.known = {k: v for k, v in self.known.items() if len(k) >= MIN_SCRUBBED_LENGTH}
        self.caseless = {k.lower(): v for k, v in self.known.items() if _CASELESS.fullmatch(k)}
        ordered = sorted(self.known, key=len, reverse=True)
        alternatives = (f"(?i:{re.escape(k)})" if k.lower() in self.caseless else re.escape(k)
                        for k in ordered)
        self.pattern = re.compile("|".join(alternatives)) if ordered else None
        self.pieces = _Pieces({k: v for k, v in self.known.items() if " " in k})
        self._masked: dict[str, str] = {}

    def mask(self, text: str) -> str:
        """``text`` with every known value masked (each distinct text worked out once: a report repeats
        its kinds, names and paths)."""
        masked = self._masked.get(text)
        if masked is None:
            masked = self._masked[text] = self._mask(text)
        return masked

    def _mask(self, text: str) -> str:
        if self.pattern is None or _MASKED.fullmatch(text):
            return text
        text = self.pattern.sub(lambda m: self._shown(m.group(0)), text)
        if "\\" in text or "\'\'" in text or "\n" in text:
            text = _QUOTED_SCALAR.sub(self._quoted, text)
        return self.pieces.mask(text)

    def mask_ref(self, ref: ObjectRef) -> ObjectRef:
        """``ref`` with its kind, name and namespace masked (a chart may stamp a Secret's value into another
        object's name); equal identities stay equal, so findings still find their objects."""
        kind, name, namespace = self.mask(ref.kind), self.mask(ref.name), self.mask(ref.namespace)
        if (kind, name, namespace) == (ref.kind, ref.name, ref.namespace):
            return ref  # the same instance: reports match findings to objects by identity first
        return replace(ref, kind=kind, name=name, namespace=namespace)

    def _quoted(self, match: re.Match[str]) -> str:
        token = match.group(0)
        for decoded in _decodings(_DIFF_PREFIX.sub("\n", token)):
            found = self.pattern.search(decoded) if self.pattern is not None else None
            if found is not None:
                return self._shown(found.group(0))
        return token

    def _shown(self, matched: str) -> str:
        """The mask of the known value ``matched`` is (in another case, for a base32 or hex form)."""
        return self.known.get(matched) or self.caseless[matched.lower()]


# a single word of a value is masked alone only when it is no ordinary word
_MIN_LONE_WORD = 16
# YAML's flow indicators separate words too: a piece of a plain scalar in a flow mapping or sequence sits
# next to one (``second-half-kept-secret,``, ``[first-half``)
_WORD = re.compile(r"[^\s,\[\]{}]+")


class _Pieces:
    """Masks the pieces of values of several words that a folded (``>-``) or multi-line plain scalar
    puts on lines of its own: YAML joins them with a space, so no line of a file diff holds the value.
    A piece is a maximal run, on one line, of the value's consecutive words: two words or more (and
    ``MIN_SCRUBBED_LENGTH`` characters), or one word of ``_MIN_LONE_WORD`` characters."""

    def __init__(self, known: Mapping[str, str]) -> None:
        self.values = [(_WORD.findall(k), v) for k, v in known.items()]
        self.where: dict[str, list[tuple[int, int]]] = {}  # word → (value, index of the word in it)
        for number, (words, _shown) in enumerate(self.values):
            for index, word in enumerate(words):
                self.where.setdefault(word, []).append((number, index))

    def mask(self, text: str) -> str:
        where = self.where
        # a piece starts at a word of a value (a line's first word without its diff sign): none, nothing to do
        if not where or not any(w in where or (w[0] in "+-" and w[1:] in where) for w in _WORD.findall(text)):
            return text
        return "".join(self._line(line) for line in text.splitlines(keepends=True))

    def _line(self, line: str) -> str:
        tokens = [(m.start(), m.end(), self._word(m.group(0), first=i == 0))
                  for i, m in enumerate(_WORD.finditer(line))]
        spans: list[tuple[int, int, str]] = []
        at = 0
        while at < len(tokens):
            best = self._run(tokens, at)
            if best is None:
                at += 1
                continue
            length, shown = best
            start, end = tokens[at][0], tokens[at + length - 1][1]
            if tokens[at][2] != line[start:tokens[at][1]]:  # a diff's ``+``/``-`` stays
                start += 1
            spans.append((start, end, shown))
            at += length
        for start, end, shown in reversed(spans):
            line = line[:start] + shown + line[end:]
        return line

    @staticmethod
    def _word(token: str, *, first: bool) -> str:
        return token[1:] if first and token[:1] in "+-" and len(token) > 1 else token

    def _run(self, tokens: Sequence[tuple[int, int, str]], at: int) -> tuple[int, str] | None:
        """The longest piece starting at token ``at``: (how many tokens, the value's mask)."""
        best: tuple[int, str] | None = None
        for number, index in self.where.get(tokens[at][2], ()):
            words, shown = self.values[number]
            length = 1
            while at + length < len(tokens) and index + length < len(words) \
                    and tokens[at + length][2] == words[index + length]:
                length += 1
            piece = " ".join(words[index:index + length])
            long_enough = len(piece) >= (MIN_SCRUBBED_LENGTH if length > 1 else _MIN_LONE_WORD)
            if long_enough and (best is None or length > best[0]):
                best = (length, shown)
        return best


def _decodings(token: str) -> Iterator[str]:
    """What a quoted ``token`` may stand for: its YAML (or JSON) value, and for a single-quoted one
    also its backslash escapes read (as a repr or a Go ``%q`` writes them)."""
    candidates = [token]
    if token.startswith("\'"):
        candidates.append('"' + token[1:-1].replace("\'\'", "\'").replace('"', '\\"') + '"')
    for candidate in candidates:
        with contextlib.suppress(yaml.YAMLError, ValueError):
            value = yaml.load(candidate, Loader=_LOADER)  # noqa: S506 (a safe loader)
            if isinstance(value, str):
                yield value


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def scrub(text: str, secrets: Mapping[str, str]) -> str:
    """``text`` with every known sensitive value replaced by its mask, longest first, and so is every
    quoted scalar in it that decodes to one (a diff line ``password: "caf\\xE9"``)."""
    if not text or not secrets:
        return text
    return KnownValues(secrets).mask(text)


# a values-file scalar this long that occurs inside a Secret's value is part of it (a DSN's password)
MIN_COMPOSED_LENGTH = 8
# what the search below considers: enough for any real values file, bounded against a hostile one
_MAX_COMPOSED_SCALARS = 20_000


def composed_parts(values_texts: Iterable[tuple[str, str]], secrets: Mapping[str, str],
                   public: Sequence[str] = ()) -> dict[str, str]:
    """``scalar → mask`` for every scalar (``MIN_COMPOSED_LENGTH`` or longer) of the values files
    ``values_texts`` (``(file, text)``) that occurs *inside* a known sensitive value (``secrets``: value ->
    mask): a chart composing ``postgres://u:{{ .Values.pw }}@db`` or ``PW={{ .Values.pw }}`` into a Secret
    makes the values file hold a part of it that whole-value matching never finds. A scalar inside one of
    the ``public`` texts (the image being bumped, shown in the title anyway) stays. Cost: one pass over the
    secrets' text for an index of their ``MIN_COMPOSED_LENGTH``-grams, then one look-up per scalar."""
    grams: dict[str, list[str]] = {}
    for value in secrets:
        for i in range(len(value) - MIN_COMPOSED_LENGTH + 1):
            holders = grams.setdefault(value[i:i + MIN_COMPOSED_LENGTH], [])
            if not holders or holders[-1] != value:
                holders.append(value)
    found: dict[str, str] = {}
    if not grams:
        return found
    for scalar in _scalars(values_texts):
        if scalar in found or scalar in secrets or any(scalar in text for text in public):
            continue
        for value in grams.get(scalar[:MIN_COMPOSED_LENGTH], ()):
            if scalar in value:
                found[scalar] = secrets[value]
                break
    return found


def _scalars(values_texts: Iterable[tuple[str, str]]) -> Iterator[str]:
    """Each scalar written in the files (keys too: a key may be the value's part as well), as written:
    a value a merge key overrides is still one a template may print."""
    left = _MAX_COMPOSED_SCALARS
    for file, text in values_texts:
        load_documents(text, file, strict=False, limits=file_limits())  # bounded, and its syntax checked
        for written in written_scalars(text):
            if left <= 0:
                return
            left -= 1
            text_form = written.strip()
            if len(text_form) >= MIN_COMPOSED_LENGTH:
                yield text_form


def excerpt(value: Any) -> str:
    """A bounded quote of ``value``: containers as ``{…}``/``[…]``, scalars as JSON, at most
    ``MAX_EXCERPT`` characters."""
    if isinstance(value, Mapping):
        return "{…}"
    if isinstance(value, list):
        return "[…]"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_EXCERPT else text[: MAX_EXCERPT - 1] + "…"


__all__ = [
    "BUILTIN_FIELDS",
    "MAX_EXCERPT",
    "MIN_COMPOSED_LENGTH",
    "KnownValues",
    "SensitiveField",
    "composed_parts",
    "dotted",
    "excerpt",
    "fingerprint",
    "is_sensitive_path",
    "mask",
    "masked_object",
    "path_is_sensitive",
    "rules_for",
    "scrub",
    "secret_strings",
    "sensitive_values",
]
