"""Helm: ``helm template RELEASE CHART -f values… --namespace NS``; each object is mapped to its
template through the ``# Source: chart/templates/x.yaml`` comment Helm writes before it.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path

from handoff.errors import RenderError
from handoff.manifests.bounds import charge, read_capped
from handoff.manifests.model import RenderedObject, RenderResult
from handoff.manifests.plain import display_name, objects_from_text
from handoff.manifests.yamldocs import file_limits, scalar_events
from handoff.redact import mask_values
from handoff.render.base import RenderSource
from handoff.render.chart_files import MAX_MEMBER_BYTES, chart_files
from handoff.render.helm_sources import IndexFreePositions, ValuesIndex, image_sources, template_positions
from handoff.render.policy import CAP_HINT, MEMORY_HINT, current
from handoff.render.remote import RemoteScan
from handoff.toolrun import require_tool, run_tool

_SOURCE = re.compile(r"^# Source: (\S+)", re.MULTILINE)


def template(chart: Path, source: RenderSource, root: Path | None = None) -> str:
    """``helm template`` of ``chart`` once its dependencies are all vendored (``handoff.render.remote``),
    run sandboxed from the chart with empty repository and registry configs."""
    policy = current()
    RemoteScan(root or chart, policy.allowed_remotes).chart(chart)
    helm = require_tool("helm", "render Helm charts")
    argv: list[str | Path] = [helm, "template"]
    for values in source.values:
        argv += [f"--values={values.absolute()}"]
    if source.namespace:
        argv += [f"--namespace={source.namespace}"]
    try:
        with _without_git(chart) as given:
            # after "--" a release name (or chart path) starting with "-" is a positional, never a flag
            return run_tool([*argv, "--", source.release or "release", given], what=f"helm template {chart}",
                            cwd=given, readable=[root or chart], max_stdout=policy.limits.max_output_bytes,
                            cap_hint=CAP_HINT, max_rss=policy.limits.max_child_memory,
                            memory_hint=MEMORY_HINT)
    except RenderError as e:  # `fail`, `required`, type errors may quote a value (a password): mask them all
        shown_from = root or chart
        files = chain(chart_files(chart, "values.yaml", shown_from), _values_files(chart, source, shown_from))
        quoted = (value for name, text in files for value in _strings(text, name))
        raise RenderError(mask_values(str(e), quoted)) from None


@contextmanager
def _without_git(chart: Path) -> Iterator[Path]:
    """``chart`` as helm may load it. Helm reads every file of a chart, and a chart at the repo root holds
    the checkout's ``.git`` (where CI keeps its token): then helm gets a directory of links to each other
    top-level entry instead. A ``.git`` deeper down is refused before rendering (``inputs.check_inputs``)."""
    top = chart.absolute()
    names = [e.name for e in os.scandir(top)]
    if all(name.lower() != ".git" for name in names):
        yield top
        return
    with tempfile.TemporaryDirectory(prefix="handoff-chart-") as staged:
        given = Path(staged) / top.name
        given.mkdir()
        for name in names:
            if name.lower() != ".git":
                (given / name).symlink_to(top / name)
        yield given


def _strings(text: str, name: str) -> Iterator[str]:
    """Every scalar of a values file (its keys too: masking more is harmless), from the parser's events, so
    a dense file costs its strings, not a node graph; charged to the render's node budget first."""
    charge(text, name)
    return scalar_events(text)


def _template_line(path: Path, kind: str) -> int:
    """The line of ``kind: <Kind>`` in the template when it occurs exactly once, else 1."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    pattern = re.compile(rf"^\s*kind:\s*[\"']?{re.escape(kind)}[\"']?\s*$")
    hits = [i + 1 for i, text in enumerate(lines) if pattern.match(text)]
    return hits[0] if len(hits) == 1 else 1


class HelmRenderer:
    name = "helm"

    def render(self, root: Path, source: RenderSource) -> RenderResult:
        chart = source.path if source.path.is_dir() else source.path.parent
        output = template(chart, source, root)
        output_name = display_name(chart / "Chart.yaml", root)
        rendered = objects_from_text(output, output_name)
        # each line (numbered) and the template it names; a line naming no template of the chart is written
        # by a template itself (``_template_file``) and ignored, so its object keeps helm's own line above
        named: dict[str, Path | None] = {}
        for m in _SOURCE.finditer(output):
            if m.group(1) not in named:
                named[m.group(1)] = _template_file(chart, m.group(1))
        sources = [(output.count("\n", 0, m.start()) + 1, path) for m in _SOURCE.finditer(output)
                   if (path := named[m.group(1)]) is not None]
        values = ValuesIndex(_values_files(chart, source, root))
        templates: dict[Path, dict[str, tuple[int, int]]] = {}
        objects = []
        for obj in rendered.objects:
            images = image_sources(obj.obj, values)
            origin = max((s for s in sources if s[0] < obj.line), default=None)
            if origin is None:
                objects.append(RenderedObject(obj=obj.obj, file=obj.file, line=obj.line,
                                              positions=obj.positions, value_sources=images))
                continue
            path = origin[1]
            if path not in templates:
                templates[path] = template_positions(_read(path))
            positions = templates[path]
            line = positions.get("kind", (_template_line(path, obj.ref.kind), 1))[0]
            objects.append(RenderedObject(obj=obj.obj, file=display_name(path, root), line=line,
                                          positions=IndexFreePositions(positions), value_sources=images))
        files = tuple(dict.fromkeys(o.file for o in objects)) or (output_name,)
        return RenderResult(objects=tuple(objects), findings=rendered.findings, files=files)


def _template_file(chart: Path, named: str) -> Path | None:
    """The template a ``# Source:`` line names ("mychart/templates/x.yaml", "mychart/charts/sub/templates/
    x.yaml": the chart name dropped), when it is a regular file of at most Helm's per-file size inside the
    chart. A template can print such a line itself (``# Source: app/../../../dev/zero``), and handoff reads
    the file outside the fence: anything else is no template."""
    parts = Path(named).parts[1:]
    if not parts or ".." in parts or Path(named).is_absolute():
        return None
    path = chart / Path(*parts)
    try:
        real, top = path.resolve(), chart.resolve()
        if not real.is_relative_to(top) or not real.is_file() or real.stat().st_size > MAX_MEMBER_BYTES or \
                any(part.lower() == ".git" for part in (*parts, *real.relative_to(top).parts)):
            return None  # a chart at the repo root holds the checkout's .git, where CI keeps its token
    except OSError:
        return None
    return path


def _read(path: Path) -> str:
    """A values file's text; "" for one over the file size cap (Helm refuses it too) or unreadable."""
    try:
        data = read_capped(path, file_limits())
        return "" if data is None else data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _values_files(chart: Path, source: RenderSource, root: Path) -> list[tuple[str, str]]:
    """The chart's values.yaml, then every ``-f`` file, as Helm merges them (later wins); a subchart's
    values (``chart_files``) sit under its own key, so they are not image sources of the parent's paths."""
    paths = [chart / "values.yaml", *source.values]
    return [(display_name(p, root), _read(p)) for p in paths if p.is_file()]
