"""Pytest fixtures for the real components, plus a hook that attaches their logs to failing tests."""

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.harness.apiserver import ApiServer
from tests.harness.cluster import WORKLOAD_TOOLS, WorkloadCluster
from tests.harness.git_server import GitServer
from tests.harness.registry import Registry
from tests.harness.tools import require_tool
from tests.harness.tools import tool_paths as installed_tool_paths

_LOG_SOURCES = ("apiserver", "workload_cluster", "registry", "git_server")


@pytest.fixture(scope="session")
def tool_paths() -> dict[str, Path]:
    """Installed real tools by name (kubeconform, helm, kustomize, yq, conftest, ...)."""
    return installed_tool_paths()


@pytest.fixture(scope="session")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """etcd + kube-apiserver (RBAC, admin token) for the whole session; no controllers run."""
    server = ApiServer(
        require_tool("kube-apiserver"), require_tool("etcd"), tmp_path_factory.mktemp("apiserver")
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def workload_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkloadCluster]:
    """apiserver + controller-manager + scheduler + KWOK fake nodes for the whole session: workloads roll out.

    Started only by tests that ask for it; see tests/harness/cluster.py for making an image's pods fail."""
    cluster = WorkloadCluster({name: require_tool(name) for name in WORKLOAD_TOOLS},
                              tmp_path_factory.mktemp("workload-cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A plain-HTTP OCI registry on 127.0.0.1 for the whole session."""
    server = Registry(
        require_tool("docker-registry"),
        require_tool("skopeo"),
        require_tool("umoci"),
        tmp_path_factory.mktemp("registry"),
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    """A fresh smart-HTTP git server per test, basic auth on with random credentials."""
    root = tmp_path_factory.mktemp("git-server")
    server = GitServer(require_tool("git"), root)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if not report.failed:
        return report
    funcargs = getattr(item, "funcargs", {})
    for name in _LOG_SOURCES:
        server = funcargs.get(name)
        if isinstance(server, ApiServer | WorkloadCluster | Registry):
            report.sections.append((f"{name} logs", server.logs()))
        elif isinstance(server, GitServer):
            report.sections.append((f"{name} requests", "\n".join(server.requests[-40:])))
    return report
