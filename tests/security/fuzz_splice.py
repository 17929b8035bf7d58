"""atheris (libFuzzer, coverage-guided) over the YAML loader and the byte-exact splice engine. On demand, not
part of `make test`:

    .venv/bin/python tests/security/fuzz_splice.py -runs=20000 [-max_len=4096] [CORPUS_DIR]

Input layout: the first line is ``<selector byte><new value>``, the rest is the YAML file. Properties (the
same as the Hypothesis test in test_fuzz_yaml.py): the loader raises nothing but YamlError; rewriting the
selected scalar raises nothing but EditError, or yields text that re-parses to the original document with
exactly that value replaced, keeping the BOM, line endings and every byte around the value. Any other
exception or failed assertion is a crash libFuzzer reports (and saves as crash-<sha1>).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: make `tests.` importable
with atheris.instrument_imports():
    from handoff.edit.editor import FileEditor
    from handoff.errors import EditError, YamlError
    from handoff.manifests import yamlio
    from tests.security.test_fuzz_yaml import intended, scalars_of

LIMITS = yamlio.Limits(max_bytes=200_000, max_depth=40, max_nodes=5_000)
SEEDS = [
    b"\x001.2.4\nimage:\n  repository: ghcr.io/acme/web # c\n  tag: '1.2.3'\n",
    b"\x01yes\na: &x 1.10\nb: *x\nc: {d: [1, 'two', \"three\"]}\n---\ne: f\n",
    b"\x02ghcr.io/a/b@sha256:" + b"a" * 64 + b"\n\xef\xbb\xbfk: v\r\nl:\r\n  - m\r\n  - name: n\r\n    image: o\r\n",
    b"\x03\nweb: registry.example/web:1.0.0 # handoff:image web\nempty:\n...\n",
    b"\x04\xc3\xbc\n%YAML 1.2\n---\n\xe6\x97\xa5: '\xc3\xa9'\nlist: [a, b]\n",
]


def test_one_input(data: bytes) -> None:
    head, _, body = data.partition(b"\n")
    selector = head[0] if head else 0
    value = head[1:].decode("utf-8", "replace")
    text = body.decode("utf-8", "replace")
    try:
        documents = yamlio.compose_all(text, display="f.yaml", limits=LIMITS)
    except YamlError as e:
        assert "\n" not in str(e)
        return
    candidates = scalars_of(documents)
    if not candidates:
        return
    node, key = candidates[selector % len(candidates)]
    editor = FileEditor("f.yaml", text, documents, LIMITS)
    try:
        changed = editor.set_scalar(node, value, key_node=key, path="x")
        result = editor.new_text()
    except EditError as e:
        assert "\n" not in str(e)
        return
    if not changed:
        assert result == text
        return
    reparsed = yamlio.compose_all(result, display="f.yaml", limits=LIMITS)
    assert [yamlio.to_data(d) for d in reparsed] == [intended(d, id(node), value) for d in documents], result
    assert result.startswith("\ufeff") == text.startswith("\ufeff")
    assert ("\r\n" in result) == ("\r\n" in text)
    start, end = node.start_mark.index, node.end_mark.index
    if start != end:
        assert result[:start] == text[:start] and result.endswith(text[end:])


def main() -> None:
    argv = list(sys.argv)
    if not any(not a.startswith("-") for a in argv[1:]):  # no corpus given: start from the seeds
        corpus = Path(tempfile.mkdtemp(prefix="handoff-fuzz-splice-"))
        for i, seed in enumerate(SEEDS):
            (corpus / f"seed{i}").write_bytes(seed)
        argv.append(str(corpus))
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
