"""Objects from YAML text, for policy examples and ``handoff policy test``: the manifests layer's
plain-YAML reader, so fixtures are located exactly as rendered manifests are."""

from __future__ import annotations

from handoff.errors import YamlError
from handoff.manifests.model import RenderedObject
from handoff.manifests.plain import objects_from_text


def objects_from_yaml(text: str, file: str) -> list[RenderedObject]:
    """Every mapping document of ``text``; a YAML error is raised with its file and line."""
    result = objects_from_text(text, file)
    problem = next((f for f in result.findings if f.rule.startswith("yaml")), None)
    if problem is not None:
        raise YamlError(problem.message, file=file, line=problem.line)
    return list(result.objects)
