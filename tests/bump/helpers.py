"""Small helpers for bump tests: build a config repo from a dict, snapshot it to prove nothing changed."""

from __future__ import annotations

from pathlib import Path


def make_repo(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and mtime (ns), temp files included: a failed bump must leave all equal."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def helm_config(**keys: str) -> str:
    lines = "".join(f"        {k}: {v}\n" for k, v in keys.items())
    return f"apps:\n  web:\n    image: ghcr.io/acme/web\n    targets:\n      - type: helm\n        path: values.yaml\n{lines}"
