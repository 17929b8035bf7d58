"""The Kubernetes CEL libraries, checked against the examples on
https://kubernetes.io/docs/reference/using-api/cel/ (list, regex, URL and quantity libraries)."""

from __future__ import annotations

from typing import Any

import cel
import pytest

from handoff.policy.celext import kubernetes_context


def evaluate(expression: str, **variables: Any) -> Any:
    context = kubernetes_context()
    for name, value in variables.items():
        context.add_variable(name, value)
    return cel.evaluate(expression, context)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # quantity library (documented examples)
        ('quantity("500000G").isInteger()', True),
        ('quantity("50k").asInteger()', 50000),
        ('quantity("9999999999999999999999999999999999999G").asApproximateFloat()', 1e46),
        ('quantity("50k").add("20k") == quantity("70k")', True),
        ('quantity("50k").sub(20000) == quantity("30k")', True),
        ('quantity("50k").add(20).sub(quantity("100k")).sub(-50000) == quantity("20")', True),
        ('quantity("200M").compareTo(quantity("0.2G"))', 0),
        ('quantity("150Mi").isGreaterThan(quantity("100Mi"))', True),
        ('quantity("50M").isLessThan(quantity("100M"))', True),
        ('quantity("1Gi") == quantity("1024Mi")', True),
        ('quantity("500m").isLessThan(quantity("1"))', True),
        ('quantity("1.5").isInteger()', False),
        ('quantity("-2Ki").sign()', -1),
        ('isQuantity("1Gb")', False),
        ('isQuantity("1e3")', True),
        # list library
        ('["a", "b", "c"].isSorted()', True),
        ('["b", "a"].isSorted()', False),
        ("[{'weight': 0.5}, {'weight': 0.5}].map(x, x.weight).sum() == 1.0", True),
        ("[1, 2].map(x, x).max() < [3, 4].map(x, x).min()", True),
        ("['x', 'should-be-first'].indexOf('should-be-first') == 1", True),
        ("[1, 2, 1].lastIndexOf(1)", 2),
        # regex library
        ('"abc 123".find("[0-9]+")', "123"),
        ('"abc".find("[0-9]+")', ""),
        ('"1, 2, 3, 4".findAll("[0-9]+").map(x, int(x)).sum() < 100', True),
        ('"a1b2c3".findAll("[0-9]", 2)', ["1", "2"]),
        # URL library
        ("url('https://example.com:80/').getHost()", "example.com:80"),
        ("url('https://example.com/path with spaces/').getEscapedPath()", "/path%20with%20spaces/"),
        ("url('https://example.com:80/').getPort()", "80"),
        ("url('https://[::1]:80/').getHostname()", "::1"),
        ("url('https://example.com/?k=v&k=w').getQuery()", {"k": ["v", "w"]}),
        ("isURL('not a url')", False),
        # extended strings library (cel-go ext.Strings, as Kubernetes enables it)
        ("'a,b,c'.split(',')", ["a", "b", "c"]),
        ("'TacoCat'.lowerAscii()", "tacocat"),
        ("'TacoCat'.upperAscii()", "TACOCAT"),
        ("'hello hello'.replace('he', 'we')", "wello wello"),
        ("'hello mellow'.indexOf('ello')", 1),
        ("'hello mellow'.lastIndexOf('ello')", 7),
        ("['hello', 'mellow'].join(' ')", "hello mellow"),
        ("'  \\ttrim\\n    '.trim()", "trim"),
    ],
)
def test_kubernetes_cel_function(expression: str, expected: Any) -> None:
    assert evaluate(expression) == expected


def test_invalid_quantity_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="invalid quantity"):
        evaluate('quantity("12 apples")')


def test_as_integer_refuses_precision_loss() -> None:
    with pytest.raises(RuntimeError, match="int64"):
        evaluate('quantity("1.5").asInteger()')


def test_quantity_on_real_container_resources() -> None:
    container = {"resources": {"requests": {"memory": "512Mi"}, "limits": {"memory": "1Gi"}}}
    assert evaluate(
        "quantity(c.resources.requests.memory).isLessThan(quantity(c.resources.limits.memory))", c=container
    ) is True
