"""A missing tool skips a test locally and fails it in CI; installed tools are found in .tools/bin."""

import pytest

from tests.harness.paths import TOOLS_BIN
from tests.harness.tools import REQUIRE_TOOLS_ENV, require_tool, tool_paths


def test_missing_tool_skips_with_a_hint_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_TOOLS_ENV, raising=False)

    with pytest.raises(pytest.skip.Exception, match="make tools"):
        require_tool("no-such-tool-handoff")


def test_missing_tool_fails_when_tools_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_TOOLS_ENV, "1")

    with pytest.raises(pytest.fail.Exception, match="make tools"):
        require_tool("no-such-tool-handoff")


@pytest.mark.tools
def test_built_tools_come_from_dot_tools_bin() -> None:
    for name in ("kubeconform", "helm", "kustomize", "yq", "conftest", "kube-apiserver", "etcd"):
        assert require_tool(name) == TOOLS_BIN / name
    assert set(tool_paths()) >= {"helm", "git", "skopeo"}
