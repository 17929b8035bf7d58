"""Finding and running the external renderers (kustomize, helm)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from handoff.errors import RenderError, ToolMissingError

_TOOL_DIRS_ENV = "HANDOFF_TOOLS_DIR"


def find_tool(name: str) -> Path | None:
    """``$HANDOFF_TOOLS_DIR/name``, then the project's ``.tools/bin``, then PATH."""
    candidates: list[Path] = []
    if os.environ.get(_TOOL_DIRS_ENV):
        candidates.append(Path(os.environ[_TOOL_DIRS_ENV]) / name)
    candidates.append(Path(__file__).resolve().parents[2] / ".tools" / "bin" / name)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def require_tool(name: str, purpose: str) -> Path:
    tool = find_tool(name)
    if tool is None:
        raise ToolMissingError(f"{name} is not installed (needed to {purpose}); put it on PATH")
    return tool


def run_tool(argv: Sequence[str | Path], *, what: str, cwd: Path | None = None, timeout: float = 300) -> str:
    """Run a renderer and return its stdout; a non-zero exit is a RenderError with its stderr."""
    try:
        proc = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True,
                              timeout=timeout, check=False, stdin=subprocess.DEVNULL)
    except OSError as e:
        raise RenderError(f"{what}: cannot run {argv[0]}: {e}") from e
    except subprocess.TimeoutExpired as e:
        raise RenderError(f"{what}: {Path(str(argv[0])).name} timed out after {timeout:.0f}s") from e
    if proc.returncode != 0:
        detail = " ".join(proc.stderr.strip().splitlines()[-3:]) or f"exit code {proc.returncode}"
        raise RenderError(f"{what}: {detail}")
    return proc.stdout
