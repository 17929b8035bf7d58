"""validate attacked as a user would: a huge single document, many tiny files, CRDs and their
resources in one stdin stream, malformed YAML mid-stream, and JUnit counts against the summary."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from handoff.validate import SchemaOptions
from handoff.validate.parallel import SPLIT_FROM_BYTES, validate_plain_paths
from tests.validate.helpers import write_tree
from tests.validate.test_parallel import WIDGET_CRD

HANDOFF = [sys.executable, "-m", "handoff", "validate", "--engine", "builtin", "--no-builtin"]


def run(repo: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HANDOFF, "--config-repo", str(repo), *args], input=stdin, capture_output=True,
                          text=True, check=False, cwd=repo)


def test_one_huge_document_is_read_whole_and_its_finding_placed(tmp_path: Path) -> None:
    blob = "x" * (2 * SPLIT_FROM_BYTES)  # past the split size, with no marker to cut at
    write_tree(tmp_path, {"big.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n"
                                      f"data:\n  blob: \"{blob}\"\n  count: 1\n"})
    reports = [validate_plain_paths([tmp_path], repo=tmp_path, options=SchemaOptions(), jobs=jobs)
               for jobs in (1, 2)]
    assert reports[0] == reports[1]
    [finding] = reports[0].findings
    assert (finding.path, finding.line, finding.column) == ("data.count", 7, 3)


def test_many_tiny_files_each_counted(tmp_path: Path) -> None:
    write_tree(tmp_path, {f"c/{i:04d}.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n"
                          for i in range(450)} | {"c/0100.yaml": "apiVersion: v1\nkind: ConfigMap\n"
                                                  "metadata: {name: c100}\ndata: {k: 1}\n"})
    single, parallel = (validate_plain_paths([tmp_path], repo=tmp_path, options=SchemaOptions(), jobs=jobs)
                        for jobs in (1, 2))
    assert single == parallel
    assert len(single.objects) == 450
    assert [(f.file, f.line) for f in single.findings] == [("c/0100.yaml", 4)]


def test_a_crd_later_in_the_stdin_stream_checks_the_resource_before_it(tmp_path: Path) -> None:
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: big}\n"
    done = run(tmp_path, "-", stdin=widget + "---\n" + WIDGET_CRD)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no schema" not in done.stdout
    assert "stdin\n  4:" in done.stdout and "Widget/w" in done.stdout
    assert done.stderr == ""


def test_malformed_yaml_mid_stream_is_reported_at_its_line_and_fails(tmp_path: Path) -> None:
    stream = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
              "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [b}\n")
    done = run(tmp_path, "-", stdin=stream)
    assert done.returncode == 1
    assert "stdin\n  7:20  error   yaml  malformed YAML" in done.stdout
    assert done.stderr == ""


def test_junit_counts_equal_the_summary(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: 1}\n---\n"
                  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\n"
                  "apiVersion: example.com/v1\nkind: Nope\nmetadata: {name: n}\n---\n- not an object\n",
        "bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [x}\n",
        "c.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {x: 1, z: 2}\n",
    })
    text = run(tmp_path, ".")
    junit = run(tmp_path, "--output", "junit", ".")
    assert text.returncode == junit.returncode == 1
    summary = text.stdout.strip().splitlines()[-1]
    assert summary.startswith("4 objects in 2 files: 1 valid, 3 invalid, 0 skipped;")
    assert "2 files with findings on no checked object (2 failing)" in summary
    suite = ET.fromstring(junit.stdout)
    assert (suite.get("tests"), suite.get("failures")) == ("6", "5")  # 4 objects + 2 files; 3 + 2 failing
    cases = suite.findall(".//testcase")
    assert sum(1 for c in cases if c.find("failure") is not None) == 5
    c_case = next(c for c in cases if c.get("classname") == "c.yaml")
    failure = c_case.find("failure")
    assert failure is not None and failure.text is not None
    assert failure.text.count("c.yaml:4:") == 2  # both of the object's findings, one testcase
