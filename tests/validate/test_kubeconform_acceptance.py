"""kubeconform's acceptance.bats cases that map to handoff options, with inputs written fresh from what
each case states (never the fixture files).

Each case runs the real ``handoff validate`` (schema checks only: ``--no-builtin``) and asserts the exit
code and counts the bats case asserts. Where kubeconform is installed, kubeconform runs on the same
input with the case's own flags (offline, against the same standalone schemas), proving the fresh input
reproduces the case. A difference is a ``Case.handoff_exit`` with its reason.

Cases with no handoff counterpart, and why: ``-skip``/``-reject`` kinds and ``-ignore-filename-pattern``
(no such options: handoff validates what the environment renders); ``-schema-location`` over HTTP,
``-cache``, ``HTTPS_PROXY``, the OpenShift schemas and the HTTP CRDs-catalog (handoff never touches the
network: its schemas ship in ``handoff[schemas]``, CRD catalogs are local ``--crd-catalog`` dirs);
``-output tap`` (no TAP writer); the JUnit-xsd case (JUnit writer tests: tests/validate/test_writers.py).
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from handoff.validate.kubeconform import kubeconform_schema_dir
from tests.harness.tools import find_tool
from tests.validate.helpers import write_tree

USAGE = 2  # handoff's exit code for usage errors; kubeconform exits 1 for everything that fails

RC_VALID = """\
apiVersion: v1
kind: ReplicationController
metadata:
  name: bob
spec:
  replicas: 2
  selector:
    app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
        - name: nginx
          image: nginx:1.27
          ports:
            - containerPort: 80
"""
RC_INVALID = RC_VALID.replace("replicas: 2", 'replicas: "2"')
RC_EXTRA = RC_VALID.replace("  replicas: 2\n", "  replicas: 2\n  surplus: true\n")
RC_DUPLICATE = RC_VALID.replace("  replicas: 2\n", "  replicas: 2\n  replicas: 3\n")

RC_JSON = json.dumps({
    "apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "bob"},
    "spec": {"replicas": 1, "selector": {"app": "web"}, "template": {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}, indent=2)

SERVICE_INT_OR_STRING = """\
apiVersion: v1
kind: Service
metadata:
  name: heapster
spec:
  selector:
    app: heapster
  ports:
    - name: by-number
      port: 80
      targetPort: 8082
    - name: by-name
      port: 443
      targetPort: https
"""

SERVICE_NULLS = """\
apiVersion: v1
kind: Service
metadata:
  name: frontend
  annotations: null
spec:
  selector:
    app: frontend
  externalIPs: null
  loadBalancerSourceRanges: ~
  sessionAffinity: null
  ports:
    - port: 80
"""

JOB_GENERATE_NAME = """\
apiVersion: batch/v1
kind: Job
metadata:
  generateName: pi-{{ generateName }}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: pi
          image: perl:5.40
          command: [perl, -Mbignum=bpi, -wle, print bpi(2000)]
"""

LIMIT_RANGE_QUANTITIES = """\
apiVersion: v1
kind: LimitRange
metadata:
  name: mem-limit-range
spec:
  limits:
    - type: Container
      default:
        memory: 512Mi
        cpu: 1
      defaultRequest:
        memory: 256000000
        cpu: "0.5"
"""


def config_map(name: str, value: str = "x") -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: {value}\n"


def service(name: str) -> str:
    return f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  ports:\n    - port: 80\n"


def stream(*docs: str) -> str:
    return "---\n".join(docs)


SIX = [config_map(f"c{i}") for i in range(3)] + [service(f"s{i}") for i in range(3)]
LIST_VALID = "apiVersion: v1\nkind: List\nitems:\n" + "".join(
    f"  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: item{i}\n    data:\n      k: v\n"
    for i in range(6))
LIST_INVALID = """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: fine
  - apiVersion: v1
    kind: ReplicationController
    metadata:
      name: bob
    spec:
      replicas: "2"
"""
CUSTOM_RESOURCE = """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: nobody-knows-me
spec:
  size: 3
"""


@dataclass(frozen=True)
class Case:
    """One acceptance.bats case: the input, both tools' arguments and the exit code bats asserts."""

    bats: str  # the bats case's title
    files: dict[str, str]
    handoff: list[str]
    kubeconform: list[str]
    exit: int
    counts: tuple[int, int, int] | None = None  # (objects, valid, invalid) handoff reports
    stdin: str | None = None
    handoff_exit: int | None = None  # when handoff differs from kubeconform: why, in ``reason``
    reason: str = ""
    output_has: str = ""  # text both tools' output contains (handoff: a finding message)


CASES = [
    Case("Pass when displaying help with -h", {}, ["--help"], ["-h"], 0),
    Case("Fail and display help when using an incorrect flag", {}, ["--xyz"], ["-xyz"], 1, handoff_exit=USAGE,
         reason="a bad flag is a usage error, and handoff's usage errors exit 2"),
    Case("Pass when parsing a valid Kubernetes config YAML file", {"valid.yaml": RC_VALID},
         ["valid.yaml"], ["valid.yaml"], 0, counts=(1, 1, 0)),
    Case("Pass when parsing a folder containing valid YAML files",
         {"folder/a.yaml": stream(*SIX[:4]), "folder/b.yaml": stream(*SIX[4:], config_map("c9"))},
         ["folder"], ["folder"], 0, counts=(7, 7, 0)),
    Case("Pass when parsing a valid Kubernetes config file with int_to_string vars",
         {"int_or_string.yaml": SERVICE_INT_OR_STRING}, ["int_or_string.yaml"], ["int_or_string.yaml"], 0,
         counts=(1, 1, 0)),
    Case("Pass when parsing a valid Kubernetes config JSON file", {"valid.json": RC_JSON},
         ["valid.json"], ["valid.json"], 0, counts=(1, 1, 0)),
    Case("Pass when parsing a valid Kubernetes config YAML file with generate name",
         {"generate_name.yaml": JOB_GENERATE_NAME}, ["generate_name.yaml"], ["generate_name.yaml"], 0,
         counts=(1, 1, 0)),
    Case("Pass when parsing a Kubernetes file with string and integer quantities",
         {"quantity.yaml": LIMIT_RANGE_QUANTITIES}, ["quantity.yaml"], ["quantity.yaml"], 0, counts=(1, 1, 0)),
    Case("Pass when parsing a valid Kubernetes config file with null arrays and strings",
         {"null_string.yaml": SERVICE_NULLS}, ["null_string.yaml"], ["null_string.yaml"], 0, counts=(1, 1, 0)),
    Case("Pass when parsing a multi-document config file", {"multi_valid.yaml": stream(*SIX)},
         ["multi_valid.yaml"], ["multi_valid.yaml"], 0, counts=(6, 6, 0)),
    Case("Fail when parsing a multi-document config file with one invalid resource",
         {"multi_invalid.yaml": stream(*SIX[:5], RC_INVALID)}, ["multi_invalid.yaml"], ["multi_invalid.yaml"], 1,
         counts=(6, 5, 1)),
    Case("Fail when parsing an invalid Kubernetes config file", {"invalid.yaml": RC_INVALID},
         ["invalid.yaml"], ["invalid.yaml"], 1, counts=(1, 0, 1)),
    Case("Return relevant error for non-existent file", {}, ["not-here"], ["not-here"], 1, handoff_exit=USAGE,
         reason="a PATH that does not exist is a usage error (exit 2), not a validation failure",
         output_has="not-here"),
    Case("Pass when parsing a blank config file", {"blank.yaml": ""}, ["blank.yaml"], ["blank.yaml"], 0,
         counts=(0, 0, 0)),
    Case("Pass when parsing a blank config file with a comment", {"comment.yaml": "# nothing here yet\n"},
         ["comment.yaml"], ["comment.yaml"], 0, counts=(0, 0, 0)),
    Case("Fail when parsing a config that is missing a Kind",
         {"missing_kind.yaml": "apiVersion: v1\nmetadata:\n  name: nokind\n"}, ["missing_kind.yaml"],
         ["missing_kind.yaml"], 1, counts=(1, 0, 1), output_has="missing 'kind'"),
    Case("Fail when parsing a config that is missing an apiVersion",
         {"missing_apiversion.yaml": "kind: ConfigMap\nmetadata:\n  name: noversion\n"},
         ["missing_apiversion.yaml"], ["missing_apiversion.yaml"], 1, counts=(1, 0, 1),
         output_has="missing 'apiVersion'"),
    Case("Fail when parsing a config that is missing a Kind value",
         {"missing_kind_value.yaml": "apiVersion: v1\nkind:\nmetadata:\n  name: emptykind\n"},
         ["missing_kind_value.yaml"], ["missing_kind_value.yaml"], 1, counts=(1, 0, 1),
         output_has="missing 'kind'"),
    Case("Fail when parsing a config with CRD", {"test_crd.yaml": CUSTOM_RESOURCE}, ["test_crd.yaml"],
         ["test_crd.yaml"], 1, counts=(1, 0, 1)),
    Case("Pass when parsing a config with Custom Resource and ignoring missing schemas",
         {"test_crd.yaml": CUSTOM_RESOURCE}, ["--ignore-missing-schemas", "test_crd.yaml"],
         ["-ignore-missing-schemas", "test_crd.yaml"], 0, counts=(1, 0, 0)),
    Case("Pass when parsing a config with additional properties", {"extra_property.yaml": RC_EXTRA},
         ["--no-strict", "extra_property.yaml"], ["extra_property.yaml"], 0, counts=(1, 1, 0)),
    Case("Pass when parsing a config with additional properties (handoff's default is strict)",
         {"extra_property.yaml": RC_EXTRA}, ["extra_property.yaml"], ["extra_property.yaml"], 0,
         counts=(1, 0, 1), handoff_exit=1,
         reason="strict is handoff's default (a typo'd field silently dropped by the API server is a bug); "
                "--no-strict is kubeconform's default, as in the case above"),
    Case("Fail when parsing a config with additional properties and strict set", {"extra_property.yaml": RC_EXTRA},
         ["--strict", "extra_property.yaml"], ["-strict", "extra_property.yaml"], 1, counts=(1, 0, 1),
         output_has="unknown field 'surplus'"),
    Case("Fail when parsing a config with duplicate properties and strict set",
         {"duplicate_property.yaml": RC_DUPLICATE}, ["duplicate_property.yaml"],
         ["-strict", "duplicate_property.yaml"], 1, output_has="duplicate key"),
    Case("Pass when parsing a config with duplicate properties and strict NOT set",
         {"duplicate_property.yaml": RC_DUPLICATE}, ["--no-strict", "duplicate_property.yaml"],
         ["duplicate_property.yaml"], 0, handoff_exit=1,
         reason="duplicate keys are always an error (yaml/duplicate-key), whatever the strictness: the API "
                "server silently keeps the last one, and handoff refuses YAML whose meaning depends on that"),
    Case("Fail early when passing a non valid -kubernetes-version", {"valid.yaml": RC_VALID},
         ["--kubernetes-version", "1.99.0", "valid.yaml"], ["-kubernetes-version", "1.25", "valid.yaml"], 1,
         handoff_exit=USAGE,
         reason="handoff accepts a minor (1.25) and refuses a version it has no schemas for, as a usage error"),
    Case("Pass when parsing a valid Kubernetes config YAML file on stdin", {}, ["-"], [], 0, counts=(1, 1, 0),
         stdin=RC_VALID,
         reason="with no PATH handoff validates the config repo (every environment), so stdin needs '-'"),
    Case("Pass when parsing a valid Kubernetes config YAML file explicitly on stdin", {}, ["-"], ["-"], 0,
         counts=(1, 1, 0), stdin=RC_VALID),
    Case("Fail when parsing an invalid Kubernetes config file on stdin", {}, ["-"], ["-"], 1, counts=(1, 0, 1),
         stdin=RC_INVALID),
    Case("Pass when parsing a file containing a List", {"list_valid.yaml": LIST_VALID}, ["list_valid.yaml"],
         ["list_valid.yaml"], 0, counts=(6, 6, 0)),
    Case("Pass when parsing a List resource from stdin", {}, ["-"], ["-"], 0, counts=(6, 6, 0), stdin=LIST_VALID),
    Case("Fail when parsing a List that contains an invalid resource", {"list_invalid.yaml": LIST_INVALID},
         ["list_invalid.yaml"], ["list_invalid.yaml"], 1, counts=(2, 1, 1)),
    Case("Fail when parsing a List that contains an invalid resource from stdin", {}, ["-"], ["-"], 1,
         counts=(2, 1, 1), stdin=LIST_INVALID),
    Case("Pass on valid, empty list", {"list_empty_valid.yaml": "apiVersion: v1\nkind: List\nitems: []\n"},
         ["list_empty_valid.yaml"], ["list_empty_valid.yaml"], 0, counts=(0, 0, 0)),
    Case("Pass on multi-yaml containing one resource, one list",
         {"multi_with_list.yaml": stream(config_map("alone"), "apiVersion: v1\nkind: List\nitems:\n"
                                         "  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n"
                                         "      name: listed\n")},
         ["multi_with_list.yaml"], ["multi_with_list.yaml"], 0, counts=(2, 2, 0)),
]


def schema_location(strict: bool) -> str:
    return f"{kubeconform_schema_dir(None, strict)}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json"


def run_handoff(work: Path, args: list[str], stdin: str | int | None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "handoff", "validate", "--no-builtin", "--config-repo", str(work),
            "--output", "json", *args]
    return _run(argv, work, stdin)


def run_kubeconform(binary: Path, work: Path, args: list[str], stdin: str | int | None
                    ) -> subprocess.CompletedProcess[str]:
    strict = "-strict" in args
    return _run([str(binary), "-summary", "-schema-location", schema_location(strict), *args], work, stdin)


def _run(argv: list[str], cwd: Path, stdin: str | int | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HANDOFF_MAX_FILE_BYTES"}
    if isinstance(stdin, int):  # a file descriptor: a terminal
        return subprocess.run(argv, cwd=cwd, stdin=stdin, capture_output=True, text=True, check=False, env=env)
    return subprocess.run(argv, cwd=cwd, input=stdin or "", capture_output=True, text=True, check=False, env=env)


def summary_counts(stdout: str) -> tuple[int, int, int]:
    summary = json.loads(stdout)["summary"]
    return summary["objects"], summary["valid"], summary["invalid"]


@pytest.mark.parametrize("case", CASES, ids=[c.bats for c in CASES])
def test_acceptance_case(tmp_path: Path, case: Case) -> None:
    write_tree(tmp_path, case.files)
    handoff = run_handoff(tmp_path, case.handoff, case.stdin)
    expected = case.exit if case.handoff_exit is None else case.handoff_exit
    assert handoff.returncode == expected, handoff.stdout + handoff.stderr
    if case.counts is not None:
        assert summary_counts(handoff.stdout) == case.counts
    if case.stdin is not None:
        assert {o["file"] for o in json.loads(handoff.stdout)["objects"]} <= {"stdin"}
    if case.output_has:
        assert case.output_has in handoff.stdout + handoff.stderr
    kubeconform = find_tool("kubeconform")
    if kubeconform is not None:  # the fresh input reproduces what the bats case states
        ran = run_kubeconform(kubeconform, tmp_path, case.kubeconform, case.stdin)
        assert ran.returncode == case.exit, ran.stdout + ran.stderr
        if case.stdin is not None and case.counts is not None:
            assert "parsing stdin" in ran.stdout


@pytest.mark.parametrize("args", [["-"]], ids=["explicitly"])
def test_nothing_piped_to_stdin_is_refused(tmp_path: Path, args: list[str]) -> None:
    """bats: "Fail when not passing data to stdin" (a terminal on stdin). handoff: a usage error (exit 2);
    the implicit form does not apply (no PATH validates the config repo)."""
    leader, terminal = pty.openpty()
    try:
        handoff = run_handoff(tmp_path, args, terminal)
        assert handoff.returncode == USAGE
        assert "nothing piped in" in handoff.stderr
        kubeconform = find_tool("kubeconform")
        if kubeconform is not None:
            assert run_kubeconform(kubeconform, tmp_path, args, terminal).returncode == 1
    finally:
        os.close(leader)
        os.close(terminal)


LARGE_DOCUMENTS = 100_000


def large_stream() -> str:
    """100,000 small valid objects, about 30 MB like the bats fixture (each document padded alike)."""
    pad = "p" * 200
    return "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  pad: {pad}{i}\n"
                   for i in range(LARGE_DOCUMENTS))


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_a_very_large_stream_passes(tmp_path: Path, source: str) -> None:
    """bats: "Pass when parsing a very large file" and "… a very long stream from stdin"."""
    text = large_stream()
    assert len(text) > 25_000_000
    if source == "file":
        write_tree(tmp_path, {"valid_large.yaml": text})
        handoff = run_handoff(tmp_path, ["valid_large.yaml"], None)
    else:
        handoff = run_handoff(tmp_path, ["-"], text)
    assert handoff.returncode == 0, handoff.stdout[-2000:] + handoff.stderr
    assert summary_counts(handoff.stdout) == (LARGE_DOCUMENTS, LARGE_DOCUMENTS, 0)
