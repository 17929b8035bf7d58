"""Attacks on issue 13's guarantees built by a hostile config-repo author, each against the real
kustomize: a guarantee that broke is a test here, fixed or marked ``xfail(strict=True)``.

Parser differential: a kustomization nested deeper than handoff's YAML depth bound (inside
``helmCharts[].valuesInline``, the one field kustomize's strict schema leaves free-form) was not
parsed by the remote scan, which then skipped the file, and kustomize fetched the ``resources`` URL:
the test HTTP server on 127.0.0.1 received the request. The scan now fails closed.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.errors import HandoffError
from handoff.render import render_path
from tests.harness.tools import require_tool

pytestmark = [pytest.mark.tools]


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        body = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fetched}\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    handler = type("Handler", (_Counting,), {"hits": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler.hits
    finally:
        httpd.shutdown()
        httpd.server_close()


def _kustomization(tmp_path: Path, text: str) -> Path:
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
                                      encoding="utf-8")
    (tmp_path / "kustomization.yaml").write_text(text, encoding="utf-8")
    return tmp_path


DEEP = "{a: " * 101 + "1" + "}" * 101
SHAPES = {
    "deeper-than-the-scan-parses": "resources:\n- %(url)s/deep.yaml\nhelmCharts:\n- name: c\n"
                                   f"  valuesInline: {DEEP}\n",
    "uppercase-scheme": "resources:\n- HTTP://%(host)s/upper.yaml\n",
    "tab-in-flow-list": "resources: [\t%(url)s/tab.yaml]\n",
    "byte-order-mark": "\ufeffresources:\n- %(url)s/bom.yaml\n",
    "json-form": '{"resources": ["%(url)s/json.yaml"]}\n',
    "escaped-in-quotes": 'resources:\n- "ht\\x74p://%(host)s/escaped.yaml"\n',
    "merge-key-alias": "base: &b\n  - %(url)s/merge.yaml\n<<: {resources: *b}\n",
    "duplicate-key-last-wins": "resources:\n- cm.yaml\nresources:\n- %(url)s/dup.yaml\n",
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_no_kustomization_shape_reaches_the_network(tmp_path: Path, server: tuple[str, list[str]],
                                                    shape: str) -> None:
    require_tool("kustomize")
    url, hits = server
    directory = _kustomization(tmp_path, SHAPES[shape] % {"url": url, "host": url.removeprefix("http://")})
    with pytest.raises(HandoffError) as refused:
        render_path(directory, repo=directory, kind="kustomize")
    assert hits == [], f"{shape}: kustomize fetched {hits}"
    assert "kustomization.yaml" in str(refused.value)


def test_an_unreadable_kustomization_is_refused_before_kustomize_runs(tmp_path: Path,
                                                                      server: tuple[str, list[str]]) -> None:
    require_tool("kustomize")
    url, hits = server
    directory = _kustomization(tmp_path, SHAPES["deeper-than-the-scan-parses"] % {"url": url})
    with pytest.raises(HandoffError, match=r"kustomization\.yaml:5: kustomization not checked.*nesting"):
        render_path(directory, repo=directory, kind="kustomize")
    assert hits == []
