"""Plain YAML scalars resolved exactly as Kubernetes tooling resolves them.

kubectl, the API server's YAML decoder and kubeconform all read YAML through sigs.k8s.io/yaml, i.e.
go-yaml v2 (YAML 1.1 flavoured, but not PyYAML's 1.1): ``y``/``n``/``yes``/``on``/``off`` are
booleans, ``0777`` is octal, ``0o17`` is an int, ``1e3`` is a number, ``1:20`` (sexagesimal) and
timestamps stay strings, ``_`` is ignored inside numbers. Getting this wrong changes verdicts (a
``value: y`` in a string field is invalid for the cluster), so every YAML path uses this table: the
validate loaders (``yamldocs``, ``fastyaml``) for values, the node loader (``yamlio``) for values and
for the tag it gives each plain scalar (the editor's "is this a string?").
"""

from __future__ import annotations

import math
import re
from typing import Any

_BOOLS = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_GO_OCTAL = re.compile(r"[-+]?0[0-7]+")
_GO_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)")
_INT64 = 2**63
_UINT64 = 2**64

STR = "tag:yaml.org,2002:str"
NULL = "tag:yaml.org,2002:null"
BOOL = "tag:yaml.org,2002:bool"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
MERGE = "tag:yaml.org,2002:merge"

_cache: dict[str, Any] = {}
_CACHE_MAX = 100_000
_MISSING = object()


def plain_scalar(value: str) -> Any:
    """The JSON value go-yaml v2 gives an untagged plain scalar (memoised: values repeat a lot)."""
    found = _cache.get(value, _MISSING)
    if found is _MISSING:
        found = _resolve(value)
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[value] = found
    return found


def plain_tag(value: str) -> str:
    """The tag go-yaml v2 resolves an untagged plain scalar to (``<<`` is a merge key)."""
    if value == "<<":
        return MERGE
    resolved = plain_scalar(value)
    if resolved is None:
        return NULL
    if isinstance(resolved, bool):
        return BOOL
    if isinstance(resolved, int):
        return INT
    if isinstance(resolved, float):
        return FLOAT
    return STR


def tagged_scalar(tag: str, value: str) -> Any:
    """The value of a scalar carrying ``tag`` (resolved or explicit, e.g. ``!!int "5"``).

    Core tags read their text the go-yaml v2 way; every other tag (timestamps, binary, custom) is a
    string: the API server receives it as a JSON string."""
    if tag == STR:
        return value
    if tag == NULL:
        return None
    if tag in (BOOL, INT):
        return plain_scalar(value)
    if tag == FLOAT:
        number = plain_scalar(value)
        return float(number) if isinstance(number, int) and not isinstance(number, bool) else number
    return value


def _resolve(value: str) -> Any:
    if value in _NULLS:
        return None
    boolean = _BOOLS.get(value)
    if boolean is not None:
        return boolean
    if value in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[value]
    first = value[0]
    if first == ".":
        return _float(value)
    if not (first.isdigit() or first in "+-"):
        return value
    plain = value.replace("_", "")
    number = _int(plain)
    if number is not None:
        return number
    if _GO_FLOAT.fullmatch(plain):
        return float(plain)
    return value


def _int(plain: str) -> int | None:
    """strconv.ParseInt(plain, 0, 64), then ParseUint: None when neither accepts it."""
    if _GO_OCTAL.fullmatch(plain):
        number = int(plain, 8)
    elif _GO_INT.fullmatch(plain) and not _leading_zero_decimal(plain):  # "09": not octal, a float
        number = int(plain, 0)
    else:
        return None
    return number if -_INT64 <= number < _UINT64 else None


def _leading_zero_decimal(plain: str) -> bool:
    digits = plain.lstrip("+-")
    return len(digits) > 1 and digits[0] == "0" and digits[1].isdigit()


def _float(value: str) -> Any:
    try:
        return float(value) if _GO_FLOAT.fullmatch(value) else value
    except ValueError:
        return value


def json_key(key: Any) -> str:
    """sigs.k8s.io/yaml's JSON key for a non-string YAML key (``1`` → ``"1"``, ``true`` → ``"true"``)."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)
