"""The CEL bindings without their interactive shell.

``cel/__init__.py`` imports ``cel.cli`` (a REPL built on prompt_toolkit and rich) on every import: 0.17 s
and 24 MiB that every `handoff validate` run and the long-running reconciler would pay for nothing. A
placeholder module under that name satisfies the package's import; handoff never uses the REPL.
"""

from __future__ import annotations

import sys
import types

sys.modules.setdefault("cel.cli", types.ModuleType("cel.cli"))

import cel  # noqa: E402  (must follow the placeholder)
from cel import stdlib  # noqa: E402

__all__ = ["cel", "stdlib"]
