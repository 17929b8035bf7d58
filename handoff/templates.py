"""Commit message, PR title and PR body templating: ``{name}`` placeholders, safe substitution only.

Unknown placeholders stay as written and nothing is evaluated (no attribute access, no format specs),
so a template from a config repo can never run code or read arbitrary data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

DEFAULT_TITLE = "handoff: {app} {image} in {env}"
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


def render(template: str, values: Mapping[str, object]) -> str:
    """Replace each ``{name}`` whose name is in ``values``; leave every other brace untouched."""

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        return str(values[key]) if key in values else match.group(0)

    return _PLACEHOLDER.sub(substitute, template)


def placeholders(template: str) -> set[str]:
    return set(_PLACEHOLDER.findall(template))
