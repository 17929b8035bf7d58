"""One big stream (a render output, or stdin) is cut at document markers and checked by workers; the
report must be exactly the one reading it whole in one process gives (lines, order, verdicts)."""

from __future__ import annotations

import re
import subprocess
import sys
from bisect import bisect_right
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handoff.policy.runner import PolicyCheck, PolicyOptions
from handoff.report.model import ValidationReport
from handoff.validate import SchemaOptions
from handoff.validate.parallel import (
    SPLIT_FROM_BYTES,
    _document_around,
    _Piece,
    _piece_crds,
    crd_hint,
    stream_spans,
    validate_plain_paths,
    validate_plain_stream,
)
from tests.harness.paths import CORPUS
from tests.validate.helpers import DEPLOYMENT, write_tree
from tests.validate.test_parallel import PROBLEMS, WIDGET_CRD

MALFORMED = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: broken\n"


def corpus_documents() -> list[str]:
    if not (CORPUS / "manifests").is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    texts = [p.read_text(encoding="utf-8") for p in sorted((CORPUS / "manifests").rglob("*.y*ml"))]
    return [t if t.endswith("\n") else t + "\n" for t in texts]


def big_stream(*, middle: str = "") -> str:
    """The corpus repeated past the split size, a custom resource early and its CRD late (so they land
    in different spans), every kind of problem, and ``middle`` half-way."""
    problems = [text for name, text in sorted(PROBLEMS.items()) if name not in ("zzz/crd.yaml", "mmm/broken.yaml")]
    parts = [PROBLEMS["aaa/widget.yaml"]]
    corpus = corpus_documents()
    while sum(map(len, parts)) < SPLIT_FROM_BYTES * 1.3:
        parts += corpus + problems
        if middle and sum(map(len, parts)) > SPLIT_FROM_BYTES * 0.6:
            parts.append(middle)
            middle = ""
    parts.append(WIDGET_CRD)
    return "".join(p if p.startswith("---") else "---\n" + p for p in parts)


@pytest.fixture(scope="module")
def stream_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stream")
    write_tree(root, {"rendered.yaml": big_stream()})
    return root


def _report(root: Path, jobs: int, check: PolicyCheck | None = None) -> ValidationReport:
    return validate_plain_paths([root / "rendered.yaml"], repo=root, options=SchemaOptions(), jobs=jobs,
                                per_object_check=check)


def test_spans_cover_the_stream_and_start_at_document_markers() -> None:
    text = big_stream()
    spans = stream_spans(text)
    assert spans is not None and len(spans) > 4
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(end == begin for (_, end, _), (begin, _, _) in pairwise(spans))
    for begin, _, lines in spans:
        assert lines == text.count("\n", 0, begin)
        assert begin == 0 or (text.startswith("---", begin) and text[begin - 1] == "\n")


@pytest.mark.parametrize("marker", ["%YAML 1.1\n---\n", "...\n"])
def test_directives_and_document_ends_keep_a_stream_whole(marker: str) -> None:
    assert stream_spans(marker + big_stream()) is None


def test_a_stream_checked_in_spans_gives_the_one_process_report(stream_file: Path) -> None:
    single = _report(stream_file, 1)
    assert _report(stream_file, 2) == single
    rules = {f.rule for f in single.findings}
    assert {"schema", "schema/unknown-field", "yaml/duplicate-key", "schema/removed-api", "schema/missing",
            "schema/missing-kind", "yaml/not-an-object"} <= rules
    # the custom resource at the top is checked against the CRD at the very end, at its own line
    widget = [(f.line, f.path) for f in single.findings if f.object is not None and f.object.name == "w"]
    assert widget[0] == (7, "spec.size") and {path for _, path in widget} == {"spec.size"}
    assert max(f.line for f in single.findings) > 20_000  # findings deep in the stream keep their lines


def test_a_stream_checked_in_spans_with_policies_gives_the_one_process_report(stream_file: Path) -> None:
    check = PolicyCheck(PolicyOptions())
    single = _report(stream_file, 1, check)
    assert _report(stream_file, 2, check) == single
    assert any(f.engine == "cel" for f in single.findings)


def test_malformed_yaml_stops_the_stream_where_one_process_stops(tmp_path: Path) -> None:
    write_tree(tmp_path, {"rendered.yaml": big_stream(middle=MALFORMED)})
    single = _report(tmp_path, 1)
    assert _report(tmp_path, 2) == single
    assert [f.rule for f in single.findings].count("yaml") == 1
    assert not any(o.object is not None and o.object.kind == "CustomResourceDefinition" and
                   o.object.name == "widgets.example.com" for o in single.objects)  # after the stop


def test_stdin_stream_in_spans_gives_the_one_process_report() -> None:
    text = big_stream()
    single = validate_plain_stream(text, "stdin", options=SchemaOptions(), jobs=1)
    assert validate_plain_stream(text, "stdin", options=SchemaOptions(), jobs=2) == single
    assert {o.file for o in single.objects} == {"stdin"}


def test_cli_reads_a_big_stream_from_stdin_with_workers(tmp_path: Path) -> None:
    head = big_stream() + "---\n"
    text = head + DEPLOYMENT.replace("replicas: 2", "replicsa: 2")
    outputs = []
    for jobs in ("1", "2"):
        ran = subprocess.run([sys.executable, "-m", "handoff", "validate", "--no-builtin", "--jobs", jobs,
                              "--config-repo", str(tmp_path), "-"], input=text, capture_output=True, text=True,
                             check=False)
        assert ran.returncode == 1, ran.stderr
        outputs.append(ran.stdout)
    assert outputs[0] == outputs[1]
    assert f"\n  {head.count(chr(10)) + 8}:3  error   schema/unknown-field  spec.replicsa" in outputs[0]


# The CRD's kind spelt with escapes only a double-quoted scalar knows: \x52 is "R", \u0044 is "D", and
# an escaped line break joins two lines without a space. The parent finds CRDs before the workers
# start, without parsing every document that holds a backslash: these must still be found.
ESCAPED_KINDS = ['"Custom\\x52esourceDefinition"', '"CustomResource\\u0044efinition"',
                 '"CustomResource\\\n  Definition"']


@pytest.mark.parametrize("kind", ESCAPED_KINDS, ids=["x-escape", "u-escape", "escaped-line-break"])
def test_a_crd_whose_kind_is_escaped_is_found_before_the_workers_start(tmp_path: Path, kind: str) -> None:
    crd = WIDGET_CRD.replace("kind: CustomResourceDefinition", f"kind: {kind}", 1)
    text = big_stream().replace(WIDGET_CRD, crd)
    assert "kind: CustomResourceDefinition\nmetadata:\n  name: widgets" not in text
    write_tree(tmp_path, {"rendered.yaml": text})
    single, parallel = _report(tmp_path, 1), _report(tmp_path, 2)
    assert parallel == single
    widget = {(f.rule, f.path) for f in single.findings if f.object and f.object.kind == "Widget"}
    assert widget == {("schema", "spec.size")}  # checked against the CRD, not "no schema"


def test_findings_from_workers_share_their_objects_refs(stream_file: Path) -> None:
    """Matching findings to objects compares refs: results come back from the workers with one
    instance per object identity, as one process makes them."""
    report = _report(stream_file, 2)
    refs = {(o.object.api_version, o.object.kind, o.object.name, o.object.namespace): id(o.object)
            for o in report.objects}
    assert report.findings
    for finding in report.findings:
        if finding.object is not None:
            ref = finding.object
            assert id(ref) == refs[(ref.api_version, ref.kind, ref.name, ref.namespace)]


# The hint as one regex (what crd_hint scans for with str.find): the kind, or a backslash before a
# character that makes a double-quoted escape spell a letter or join two lines.
_HINT_REGEX = re.compile("CustomResourceDefinition|\\\\[xuU\r\n\x85\u2028\u2029]")
_HINT_TEXT = st.lists(st.sampled_from(["\\", "x", "u", "U", "\r", "\n", "\x85", "a", "-", "---\n",
                                               "\n---\n", "CustomResourceDefinition", "Custom", " "])).map("".join)


@given(text=_HINT_TEXT, start=st.integers(min_value=0, max_value=40))
def test_crd_hint_finds_what_the_hint_regex_finds(text: str, start: int) -> None:
    found = _HINT_REGEX.search(text, start)
    assert crd_hint(text, start) == (found.start() if found else -1)


@given(text=_HINT_TEXT, at=st.integers(min_value=0, max_value=200))
def test_the_document_around_an_offset_is_cut_at_markers(text: str, at: int) -> None:
    if at >= len(text) or text[at] == "-":
        return  # a hint is never on a marker's dashes
    cuts = [0, *(m.start() for m in re.finditer(r"^---(?=[ \t\r\n]|$)", text, re.MULTILINE) if m.start()),
            len(text)]
    document = bisect_right(cuts, at) - 1
    assert _document_around(text, at) == (cuts[document], cuts[document + 1])


def test_a_document_parsed_for_its_crd_is_a_piece_the_workers_take_as_parsed() -> None:
    """The parent parses the documents that can hold a CRD before the workers start; each becomes a
    piece of its own that the workers reuse (not parse again), and the pieces still tile the span
    with the stream's own line offsets."""
    deployment = DEPLOYMENT if DEPLOYMENT.startswith("---") else "---\n" + DEPLOYMENT
    crd = WIDGET_CRD if WIDGET_CRD.startswith("---") else "---\n" + WIDGET_CRD
    text = deployment + crd + deployment
    piece = _Piece("s.yaml", "s.yaml", (0, len(text), 0))
    crds, pieces, parsed = _piece_crds([piece], {"s.yaml": text})
    assert [c.obj["kind"] for c in crds] == ["CustomResourceDefinition"]
    assert [p.parsed for p in pieces] == [False, True, False]
    assert [p.span[:2] for p in pieces if p.span] == [(0, len(deployment)), (len(deployment), len(deployment + crd)),
                                                       (len(deployment + crd), len(text))]
    assert [p.span[2] for p in pieces if p.span] == [0, deployment.count("\n"), (deployment + crd).count("\n")]
    assert list(parsed) == [("s.yaml", len(deployment))]
    assert [o.obj["kind"] for o in parsed["s.yaml", len(deployment)].objects] == ["CustomResourceDefinition"]
