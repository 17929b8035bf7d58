"""atheris (libFuzzer, coverage-guided) over the image-reference grammar. On demand, not part of `make test`:

    .venv/bin/python tests/security/fuzz_imageref.py -runs=200000 [CORPUS_DIR]

Any input either raises ImageRefError (one line) or parses to a reference that prints back exactly as written,
round-trips through its canonical and familiar forms, and cannot pose as an option or carry whitespace, control
or shell characters (the same properties as test_fuzz_imageref.py).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: make `tests.` importable
with atheris.instrument_imports():
    from handoff.errors import ImageRefError
    from handoff.imageref import parse
    from tests.security.test_fuzz_imageref import _assert_safe

SEEDS = [b"nginx", b"ghcr.io/acme/web:1.2.3", b"localhost:5000/a/b@sha256:" + b"a" * 64,
         b"[::1]:5000/x:y", b"docker.io/library/busybox:latest", b"registry.example:443/a__b/c-d:v1.0_rc"]


def test_one_input(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    try:
        ref = parse(text)
    except ImageRefError as e:
        assert "\n" not in str(e)
        return
    _assert_safe(ref, text)
    assert parse(ref.canonical).canonical == ref.canonical
    assert parse(ref.familiar).canonical == ref.canonical


def main() -> None:
    argv = list(sys.argv)
    if not any(not a.startswith("-") for a in argv[1:]):
        corpus = Path(tempfile.mkdtemp(prefix="handoff-fuzz-imageref-"))
        for i, seed in enumerate(SEEDS):
            (corpus / f"seed{i}").write_bytes(seed)
        argv.append(str(corpus))
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
