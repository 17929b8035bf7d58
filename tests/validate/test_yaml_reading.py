"""YAML is read exactly as Kubernetes reads it, on both the fast and the exact path, within limits."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff.errors import YamlError
from handoff.manifests import bounds, fastyaml, yamldocs, yamlio
from handoff.manifests.plain import objects_from_text
from tests.harness.paths import CORPUS
from tests.harness.tools import require_tool
from tests.validate.helpers import check, write_tree

# value -> does kubeconform (sigs.k8s.io/yaml, go-yaml v2) accept it as a ConfigMap data string?
DATA_VALUES = ["y", "n", "yes", "on", "Off", "NO", "0777", "0o17", "1:20", "1e3", "0x1F", "1_000",
               "2001-12-14", "=", "~", "0b101", "+12", "1.", "09", "True", "'yes'", '"0777"', "yess", "nginx"]
# value -> does it pass as an integer (Deployment spec.replicas)?
REPLICAS = ["0777", "0o17", "1e3", "1_000", "1:20", "09", "0b11", "+5", "y", "'3'"]


def _need_fast_path() -> None:
    # yaml-rs is an optional speed-up (handoff works without it). Until pyproject declares it, a
    # missing one skips with this reason in the -ra summary rather than failing CI.
    if not fastyaml.available():
        pytest.skip("yaml-rs (the fast YAML path) is not installed: pip install yaml-rs==0.1.6")


def _scalar_tree(root: Path) -> Path:
    files = {f"cm{i}.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  a: {v}\n"
             for i, v in enumerate(DATA_VALUES)}
    files.update({f"d{i}.yaml": (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}\nspec:\n"
                                 f"  replicas: {v}\n  selector: {{}}\n  template: {{}}\n")
                  for i, v in enumerate(REPLICAS)})
    files["intkey.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: k\ndata:\n  1: a\n"
    return write_tree(root, files)


def test_scalars_get_the_verdicts_kubeconform_gives(tmp_path: Path) -> None:
    """`value: y` is a boolean for Kubernetes (go-yaml v2), `1:20` a string: same verdicts as kubeconform."""
    require_tool("kubeconform")
    _scalar_tree(tmp_path)
    verdicts = {}
    for engine in ("builtin", "kubeconform"):
        report = check(tmp_path, engine=engine)
        verdicts[engine] = sorted((o.file, o.status) for o in report.objects)
    assert verdicts["builtin"] == verdicts["kubeconform"]
    invalid = {file for file, status in verdicts["builtin"] if status == "invalid"}
    assert {"cm0.yaml", "cm2.yaml", "cm6.yaml", "d4.yaml", "d8.yaml"} <= invalid  # y, yes, 0777, 1:20, y
    assert not {"cm8.yaml", "cm12.yaml", "cm20.yaml", "d0.yaml", "d2.yaml", "intkey.yaml"} & invalid


def test_exact_loader_alone_gives_the_same_data(tmp_path: Path) -> None:
    _scalar_tree(tmp_path)
    for path in sorted(tmp_path.glob("*.yaml")):
        text = path.read_text()
        fast = yamldocs.load_documents(text, path.name)
        exact = yamldocs.load_exact(text, path.name)
        assert [(d.data, d.line, d.index) for d in fast.docs] == [(d.data, d.line, d.index) for d in exact.docs]


def _corpus_texts() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def test_fast_path_agrees_with_the_exact_loader_on_the_whole_corpus() -> None:
    _need_fast_path()
    taken = 0
    for path in _corpus_texts():
        text = path.read_text(encoding="utf-8")
        fast = fastyaml.fast_documents(text)
        if fast is None:
            continue
        taken += 1
        exact = yamldocs.load_exact(text, path.name, strict=False)
        assert repr(fast) == repr([(d.data, d.line, d.index) for d in exact.docs]), path.name
    assert taken >= len(_corpus_texts()) // 2  # the fast path really is the common one


_TOKEN = st.text(alphabet="yYnNoOfFtTeE01789._-+:~ xsa_", min_size=1, max_size=6)
_LINE = st.one_of(
    st.builds(lambda k, v: f"k{k}: {v}", st.integers(0, 3), _TOKEN),
    st.builds(lambda v: f"- {v}", _TOKEN),
    st.builds(lambda k: f"{k}: x", _TOKEN),
    st.builds(lambda a, b: f"f: [{a}, {b}]", _TOKEN, _TOKEN),
    st.just("---"),
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_LINE, min_size=1, max_size=6))
def test_fast_path_never_disagrees_with_the_exact_loader(lines: list[str]) -> None:
    """Whatever the fast path accepts, it reads as go-yaml v2 would (otherwise it must decline)."""
    _need_fast_path()
    text = "\n".join(lines) + "\n"
    fast = fastyaml.fast_documents(text)
    if fast is None:
        return
    exact = yamldocs.load_exact(text, "t.yaml", strict=False)
    if exact.findings:  # PyYAML refused something the Rust parser took: nothing to compare
        return
    # repr: 1, 1.0 and True are equal in Python but not to a JSON schema
    assert repr(fast) == repr([(d.data, d.line, d.index) for d in exact.docs])


def test_alias_bomb_is_refused_with_a_finding_naming_the_file() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    rendered = objects_from_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n" + bomb, "bomb.yaml")
    (finding,) = rendered.findings
    assert (finding.rule, finding.file) == ("yaml/limit", "bomb.yaml")
    assert "alias" in finding.message


def test_deep_nesting_and_recursive_aliases_are_refused() -> None:
    deep = "a: " + "[" * 300 + "]" * 300 + "\n"
    (finding,) = objects_from_text(deep, "deep.yaml").findings
    assert finding.rule == "yaml/limit" and "nesting deeper than" in finding.message
    (finding,) = objects_from_text("a: &x\n  b: *x\n", "loop.yaml").findings
    assert finding.rule == "yaml/limit" and "recursive alias" in finding.message


def test_files_over_the_size_limit_are_findings_not_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_MAX_FILE_BYTES", "2000")
    monkeypatch.setattr(yamldocs, "_default_limits", None)
    write_tree(tmp_path, {"big.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n"
                          + "".join(f"  k{i}: v\n" for i in range(400)),
                          "small.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\n"})
    report = check(tmp_path)
    (finding,) = report.findings
    assert (finding.rule, finding.file, finding.line) == ("yaml/limit", "big.yaml", 1)
    assert "2000-byte" in finding.message
    assert report.failed()  # the big file is an error even though nothing in it was validated
    monkeypatch.setattr(yamldocs, "_default_limits", None)


def test_the_corpus_report_is_the_same_without_the_fast_path(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Same verdicts, findings and positions whether or not the fast path parsed the files."""
    _need_fast_path()

    def report() -> tuple[list[tuple[str, str, str]], list[tuple[str, int, int, str, str]]]:
        rendered = check(CORPUS, "manifests")
        return ([(o.file, str(o.object), o.status) for o in rendered.objects],
                sorted((f.file, f.line, f.column, f.path, f.rule) for f in rendered.findings))

    with_fast = report()
    monkeypatch.setattr(yamldocs, "fast_documents", lambda text: None)
    assert report() == with_fast
    assert with_fast[1]  # the corpus has findings (removed APIs, CRs without schemas) to compare


# hand-picked scalars: the Rust fast path, the exact loader and the node loader agree on value AND type
HAND_PICKED = ["yes", "no", "on", "off", "y", "n", "0o17", "017", "0x1F", "1e3", ".inf", "-.inf", ".nan", "~",
               "null", "2001-12-14", "2001-12-14T21:59:43Z", "1_000", "1:20", "!!str 5", "!!int '7'",
               "!!float 3", "'on'", "web", "1.10", "-1", "99999999999999999999"]


@pytest.mark.parametrize("scalar", HAND_PICKED)
def test_every_path_gives_a_scalar_the_same_value_and_type(scalar: str) -> None:
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: {scalar}\n  l: [{scalar}]\n"
    exact = yamldocs.load_exact(text, "t.yaml")
    fast = yamldocs.load_documents(text, "t.yaml")
    (nodes,) = yamlio.compose_all(text, display="t.yaml", limits=yamlio.Limits())
    assert repr([d.data for d in fast.docs]) == repr([d.data for d in exact.docs])
    assert repr(yamlio.to_data(nodes)) == repr(exact.docs[0].data)


@pytest.mark.parametrize("text", [
    "base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n",  # merge keys
    "a: &v yes\nb: *v\n",  # an anchored scalar
    "? [complex]\n: v\n",
])
def test_merges_anchors_and_complex_keys_read_the_same_on_both_loaders(text: str) -> None:
    fast = fastyaml.fast_documents(text)
    exact = yamldocs.load_exact(text, "t.yaml")
    assert fast is None or repr(fast) == repr([(d.data, d.line, d.index) for d in exact.docs])


def _deployments(count: int) -> str:
    return "".join(f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}\n"
                   f"spec:\n  replicas: 1\n" for i in range(count))


def test_a_stream_of_100000_documents_is_accepted_with_right_lines_for_late_documents() -> None:
    text = _deployments(100_000)  # about 9 MB: kubeconform's acceptance stream has 100,000 in 30 MB
    assert len(text.encode()) < yamlio.Limits().max_bytes
    rendered = objects_from_text(text, "stream.yaml")
    assert not rendered.findings
    assert len(rendered.objects) == 100_000
    last = rendered.objects[-1]
    assert (last.ref.name, last.line) == ("d99999", 7 * 99_999 + 2)
    assert last.locate("spec.replicas") == (7 * 99_999 + 7, 3)


def test_first_lines_count_each_newline_once() -> None:
    """Linear in the number of documents: line numbers advance from the previous document, never
    from the start of the stream (which made 10,000 documents take 9 s)."""
    text = _deployments(2_000)
    counter = fastyaml.LineCounter(text)
    offsets = [i for i in range(len(text)) if text.startswith("---", i)]
    lines = [counter.line_at(offset) for offset in offsets]
    assert lines == [7 * i + 1 for i in range(2_000)]
    assert counter.scanned <= len(text)
    exact = yamldocs.load_exact(text, "t.yaml")
    fast = fastyaml.fast_documents(text)
    assert fast is None or [line for _, line, _ in fast] == [d.line for d in exact.docs]


def test_limits_are_declared_once() -> None:
    assert yamldocs.file_limits() == bounds.Limits.from_env()
    assert yamlio.Limits is bounds.Limits


def test_an_alias_bomb_in_a_long_stream_is_refused_by_the_one_counter() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(7))
    text = _deployments(1_000) + "---\n" + bomb
    (finding,) = objects_from_text(text, "s.yaml").findings
    assert finding.rule == "yaml/limit" and "alias bomb" in finding.message
    with pytest.raises(YamlError, match="alias bomb"):
        yamlio.compose_all(text, display="s.yaml", limits=yamlio.Limits())


@pytest.mark.parametrize("text", [
    "".join(" " * i + f"k{i}:\n" for i in range(150)) + " " * 150 + "v: 1\n",  # block mappings
    "- " * 150 + "x\n",  # sequences on one line
    "a:\n" + "".join(" " * (2 * i + 2) + "- b:\n" for i in range(80)) + " " * 170 + "c: 1\n",
])
def test_a_depth_bomb_without_brackets_is_refused_whichever_parser_reads_it(text: str) -> None:
    _need_fast_path()
    assert fastyaml.fast_documents(text) is None
    (finding,) = objects_from_text(text, "deep.yaml").findings
    assert finding.rule == "yaml/limit" and "nesting deeper than 100" in finding.message


def test_the_fast_path_keeps_deep_but_legal_texts() -> None:
    _need_fast_path()
    text = "".join(" " * i + f"k{i}:\n" for i in range(60)) + " " * 60 + "v: 1\n"
    fast = fastyaml.fast_documents(text)
    assert fast is not None
    assert repr(fast) == repr([(d.data, d.line, d.index) for d in yamldocs.load_exact(text, "t").docs])


def test_overriding_a_merged_key_is_not_a_duplicate_but_writing_a_key_twice_is() -> None:
    merged = yamldocs.load_exact("base: &b {x: 1, w: 1}\nm:\n  <<: *b\n  x: 2\n", "t.yaml")
    assert not merged.findings and merged.docs[0].data["m"] == {"x": 2, "w": 1}
    twice = yamldocs.load_exact("base: &b {x: 1}\nm:\n  <<: *b\n  z: 2\n  z: 3\n", "t.yaml")
    assert [(f.rule, f.line) for f in twice.findings] == [("yaml/duplicate-key", 5)]


_UNDERSCORED = st.builds(lambda a, b: f"{a}_{b}", st.text(alphabet="0123456789abefxXoObBpins.+-", max_size=4),
                         st.text(alphabet="0123456789abefxXoObBpins._+-", max_size=4))


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.one_of(st.builds(lambda v: f"k: {v}", _UNDERSCORED), st.builds(lambda k: f"{k}: x", _UNDERSCORED),
                          st.builds(lambda v: f"- [{v}]", _UNDERSCORED)), min_size=1, max_size=4))
def test_underscored_tokens_the_fast_path_keeps_read_as_go_yaml_reads_them(lines: list[str]) -> None:
    """A token with an underscore stays on the fast path only when it holds a character no Go number
    can (``--bind_ip``): go-yaml drops underscores before reading numbers, YAML 1.2 does not."""
    _need_fast_path()
    text = "\n".join(lines) + "\n"
    fast = fastyaml.fast_documents(text)
    if fast is None:
        return
    exact = yamldocs.load_exact(text, "t.yaml", strict=False)
    if exact.findings:
        return
    assert repr(fast) == repr([(d.data, d.line, d.index) for d in exact.docs])


def test_underscores_in_words_keep_the_fast_path() -> None:
    _need_fast_path()
    assert fastyaml.fast_documents("args: [--bind_ip, '{{ .head_sha }}']\nx: 1_s\n") is not None
    assert fastyaml.fast_documents("a: 1_000\n") is None and fastyaml.fast_documents("a: 0x_1F\n") is None


@pytest.mark.parametrize("text", ["f: [.0_, 0]\n", "f: [1_0, x]\n", "f: {a: 0_1, b: 2}\n"])
def test_an_underscored_number_in_a_flow_collection_leaves_the_fast_path(text: str) -> None:
    """go-yaml reads ``.0_`` as a number, YAML 1.2 as a string: the scan must not stop at the comma
    after it (a character class once read ``+-_`` as a range, taking in ``,`` and digits)."""
    _need_fast_path()
    assert fastyaml.risky(text)
    assert fastyaml.fast_documents(text) is None
