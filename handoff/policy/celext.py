"""The Kubernetes CEL libraries that ``common-expression-language`` lacks.

cel-rust carries only plain values, so a Quantity or URL travels through expressions as a one-key
map (``{"__quantity__": "3/2"}``, ``{"__url__": "https://…"}``); the canonical fraction makes ``==``
agree with Kubernetes' semantic equality (``quantity("1Gi") == quantity("1024Mi")``).
See https://kubernetes.io/docs/reference/using-api/cel/ for the functions mirrored here.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any

from handoff.policy.celmod import cel, stdlib
from handoff.policy.quantity import is_quantity, parse_quantity

add_stdlib_to_context = stdlib.add_stdlib_to_context
_string_index_of = stdlib.index_of
_string_last_index_of = stdlib.last_index_of

_QUANTITY = "__quantity__"
_URL = "__url__"
_INT64 = 2**63


def _to_fraction(value: Any) -> Fraction:
    if isinstance(value, Mapping) and _QUANTITY in value:
        return Fraction(value[_QUANTITY])
    if isinstance(value, bool):
        raise TypeError("no such overload: quantity operand must be a quantity, int or string")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, str):
        return parse_quantity(value)
    raise TypeError("no such overload: quantity operand must be a quantity, int or string")


def _quantity_value(value: Fraction) -> dict[str, str]:
    return {_QUANTITY: str(value)}


def quantity(text: str) -> dict[str, str]:
    return _quantity_value(parse_quantity(text))


def is_integer(q: Any) -> bool:
    value = _to_fraction(q)
    return value.denominator == 1 and -_INT64 <= value.numerator < _INT64


def as_integer(q: Any) -> int:
    if not is_integer(q):
        raise ValueError("cannot convert quantity to int64 without overflow or loss of precision")
    return _to_fraction(q).numerator


def as_approximate_float(q: Any) -> float:
    value = _to_fraction(q)
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def sign(q: Any) -> int:
    value = _to_fraction(q)
    return (value > 0) - (value < 0)


def add(q: Any, other: Any) -> dict[str, str]:
    return _quantity_value(_to_fraction(q) + _to_fraction(other))


def sub(q: Any, other: Any) -> dict[str, str]:
    return _quantity_value(_to_fraction(q) - _to_fraction(other))


def compare_to(q: Any, other: Any) -> int:
    a, b = _to_fraction(q), _to_fraction(other)
    return (a > b) - (a < b)


def is_less_than(q: Any, other: Any) -> bool:
    return compare_to(q, other) < 0


def is_greater_than(q: Any, other: Any) -> bool:
    return compare_to(q, other) > 0


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def find(text: str, pattern: str) -> str:
    match = _regex(pattern).search(text)
    return match.group(0) if match else ""


def find_all(text: str, pattern: str, limit: int = -1) -> list[str]:
    found = [m.group(0) for m in _regex(pattern).finditer(text)]
    return found if limit < 0 else found[:limit]


def index_of(container: Any, item: Any, *offset: int) -> int:
    if isinstance(container, str):
        return _string_index_of(container, item, *offset)
    for i, element in enumerate(container):
        if element == item and type(element) is type(item):
            return i
    return -1


def last_index_of(container: Any, item: Any, *offset: int) -> int:
    if isinstance(container, str):
        return _string_last_index_of(container, item, *offset)
    for i in range(len(container) - 1, -1, -1):
        if container[i] == item and type(container[i]) is type(item):
            return i
    return -1


def is_sorted(items: Sequence[Any]) -> bool:
    return all(items[i] <= items[i + 1] for i in range(len(items) - 1))


def _parse_url(text: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(text)
    if not parts.scheme or not (parts.netloc or parts.path.startswith("/")):
        raise ValueError(f"URL must be absolute: {text!r}")
    return parts


def url(text: str) -> dict[str, str]:
    _parse_url(text)
    return {_URL: text}


def is_url(text: str) -> bool:
    try:
        _parse_url(text)
    except ValueError:
        return False
    return True


def _url_parts(u: Mapping[str, str]) -> urllib.parse.SplitResult:
    return _parse_url(u[_URL])


def get_scheme(u: Mapping[str, str]) -> str:
    return _url_parts(u).scheme


def get_host(u: Mapping[str, str]) -> str:
    return _url_parts(u).netloc.rpartition("@")[2]


def get_hostname(u: Mapping[str, str]) -> str:
    host = get_host(u)
    if host.startswith("["):
        return host[1 : host.index("]")]
    return host.rsplit(":", 1)[0] if ":" in host else host


def get_port(u: Mapping[str, str]) -> str:
    host = get_host(u)
    tail = host.rsplit("]", 1)[-1]
    return tail.rsplit(":", 1)[1] if ":" in tail else ""


def get_escaped_path(u: Mapping[str, str]) -> str:
    return urllib.parse.quote(_url_parts(u).path, safe="/%:@!$&'()*+,;=-._~")


def get_query(u: Mapping[str, str]) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(_url_parts(u).query, keep_blank_values=True)


KUBERNETES_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "quantity": quantity,
    "isQuantity": is_quantity,
    "isInteger": is_integer,
    "asInteger": as_integer,
    "asApproximateFloat": as_approximate_float,
    "sign": sign,
    "add": add,
    "sub": sub,
    "compareTo": compare_to,
    "isLessThan": is_less_than,
    "isGreaterThan": is_greater_than,
    "find": find,
    "findAll": find_all,
    "indexOf": index_of,
    "lastIndexOf": last_index_of,
    "isSorted": is_sorted,
    "url": url,
    "isURL": is_url,
    "getScheme": get_scheme,
    "getHost": get_host,
    "getHostname": get_hostname,
    "getPort": get_port,
    "getEscapedPath": get_escaped_path,
    "getQuery": get_query,
}


def kubernetes_context() -> cel.Context:
    """A fresh context with cel-go's extension libraries and the Kubernetes ones registered."""
    context = cel.Context()
    add_stdlib_to_context(context)
    for name, function in KUBERNETES_FUNCTIONS.items():
        context.add_function(name, function)
    return context
