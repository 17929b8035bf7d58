"""Commit message, PR title and PR body templating: ``{name}`` placeholders, safe substitution only.

Unknown placeholders stay as written and nothing is evaluated (no attribute access, no format specs),
so a template from a config repo can never run code or read arbitrary data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

DEFAULT_TITLE = "handoff: {app} {image} in {env}"
# GitHub's limits (a longer title or body is refused); GitLab's are higher
MAX_TITLE_CHARS = 256
MAX_BODY_CHARS = 65_536
BODY_CUT_NOTE = f"\n\n_(the body is cut at {MAX_BODY_CHARS:,} characters)_\n"
DEFAULT_BODY = """\
Proposed by handoff: set **{app}** to `{image}` in **{env}**.

| | |
|---|---|
| image | `{image}` |
| digest | `{digest}` |
| previous | `{previous}` |
| source commit | {source_commit} |
| pipeline | {pipeline_url} |

### Change
```diff
{diff}
```

### Rendered change ({env})
{rendered_diff}

### Validation
{validation}
"""
DEFAULT_COMMIT = """\
handoff: {app} {image} in {env}

Image: {image}
Digest: {digest}
Previous: {previous}
Source-Commit: {source_commit}
Pipeline: {pipeline_url}
"""


def render(template: str, values: Mapping[str, object], *, limit: int | None = None, note: str = "") -> str:
    """Replace each ``{name}`` whose name is in ``values``; leave every other brace untouched. ``limit``:
    the output stops at that many characters, ending in ``note``, however often the template repeats a
    value (a template is repo content: ``{diff}`` 2,000 times must not build 40 MB)."""
    out: list[str] = []
    size, at = 0, 0
    for match in _PLACEHOLDER.finditer(template):
        key = match.group(1)
        for part in (template[at:match.start()], str(values[key]) if key in values else match.group(0)):
            out.append(part)
            size += len(part)
        at = match.end()
        if limit is not None and size > limit:
            break
    else:
        out.append(template[at:])
        size += len(template) - at
    text = "".join(out)
    if limit is None or size <= limit:
        return text
    return text[:max(0, limit - len(note))] + note


def placeholders(template: str) -> set[str]:
    return set(_PLACEHOLDER.findall(template))
