"""A catalogue of hostile or broken inputs across every command.

Each case runs the real CLI (``handoff.cli.main``) on a real config repo (local files, or a repo on the
harness git server) and asserts the exit code, that stderr is one line of error text naming what is wrong
(file, line, key where there is one), and that nothing changed: the files in and around the repo (hashed)
and the remote's refs.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from handoff.cli import main
from handoff.redact import forget_all
from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool

VALUES = "image:\n  repository: ghcr.io/acme/web\n  tag: 1.4.1\n"
CONFIG = """apps:
  web:
    image: ghcr.io/acme/web
    targets:
      - type: helm
        path: {path}
        tag: image.tag
environments:
  dev: {{}}
  prod: {{}}
"""
GOOD = {".handoff.yaml": CONFIG.format(path="values.yaml"), "values.yaml": VALUES}
MARKERS = {"apps.yaml": "web: ghcr.io/acme/web:1.0.0 # handoff:image web\n"}
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9))
DEEP = "image:\n" + "".join(f"{' ' * i}k{i}:\n" for i in range(1, 150)) + " " * 150 + "tag: 1\n"
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: not-a-real-token}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
"""
SECRET = "s3cr3t-Tok3n-in-url"


@dataclass(frozen=True)
class Case:
    """``argv`` may use REPO (local checkout), URL (remote repo), OUT (a directory outside the repo)."""

    id: str
    argv: tuple[str, ...]
    code: int
    says: tuple[str, ...] = ()
    files: dict[str, str | bytes] = field(default_factory=lambda: dict(GOOD))
    links: dict[str, str] = field(default_factory=dict)  # repo path -> target (OUT allowed)
    remote: bool = False


def bump(*extra: str, image: str = "ghcr.io/acme/web:1.5.0") -> tuple[str, ...]:
    return ("bump", "--config-repo", "REPO", "--image", image, *extra)


def propose(*extra: str, image: str = "ghcr.io/acme/web:1.5.0", app: str = "web") -> tuple[str, ...]:
    return ("propose", "--config-repo", "URL", "--image", image, "--app", app, "--env", "dev",
            "--token-env", "HANDOFF_TEST_TOKEN", "--git-username", "USER", "--max-attempts", "2", *extra)


def reconcile(*extra: str, repo: str = "URL") -> tuple[str, ...]:
    return ("reconcile", "--once", "--kubeconfig", "OUT/kubeconfig", "--repo", repo, "--namespace", "hs",
            "--no-leader-elect", "--workdir", "OUT/work", *extra)


def cfg(path: str = "values.yaml", **files: str | bytes) -> dict[str, str | bytes]:
    return {".handoff.yaml": CONFIG.format(path=path), "values.yaml": VALUES, **files}


CASES = [
    # -- bump: image references are checked against the grammar before anything else sees them --------
    Case("image-option-injection", bump(image="-oProxyCommand=touch /tmp/pwned"), 2, ("invalid image reference",)),
    Case("image-newline-option", bump(image="ghcr.io/acme/web:1\n--upload-pack=x"), 2, ("contains whitespace",)),
    Case("image-uppercase", bump(image="ghcr.io/Acme/web:1"), 2, ("path component 'Acme'",)),
    Case("image-no-tag", bump(image="ghcr.io/acme/web"), 2, ("a tag or a digest is needed",)),
    Case("image-short-digest", bump(image="ghcr.io/acme/web@sha256:abc"), 2, ("digest",)),
    Case("image-shell-metachar", bump(image="ghcr.io/acme/web:1;rm -rf ~"), 2, ("invalid image reference",)),
    Case("image-nul", bump(image="ghcr.io/acme/web:1\x00x"), 2, ("invalid image reference",)),
    # -- bump: paths stay inside the repo ---------------------------------------------------------------
    Case("path-dotdot", bump(), 1, (".handoff.yaml:", "apps.web.targets[0].path", "leaves the config repository"),
         files=cfg("../outside/secret.yaml")),
    Case("path-absolute", bump(), 2, (".handoff.yaml:", "apps.web.targets[0].path"), files=cfg("/etc/passwd")),
    Case("path-home", bump(), 2, (".handoff.yaml:", "apps.web.targets[0].path"), files=cfg("~/values.yaml")),
    Case("symlink-file-out", bump(), 1, ("resolves outside the config repository",),
         files={".handoff.yaml": CONFIG.format(path="values.yaml")}, links={"values.yaml": "OUT/secret.yaml"}),
    Case("symlink-dir-out", bump(), 1, ("resolves outside the config repository",),
         files={".handoff.yaml": CONFIG.format(path="d/secret.yaml")}, links={"d": "OUT"}),
    # -- bump: hostile YAML is bounded -------------------------------------------------------------------
    Case("alias-bomb-values", bump(), 1, ("values.yaml:", "alias bomb"), files=cfg(**{"values.yaml": VALUES + BOMB})),
    Case("alias-bomb-config", bump(), 2, (".handoff.yaml:", "alias bomb"),
         files={".handoff.yaml": CONFIG.format(path="values.yaml") + BOMB.replace("a:", "x-a:"),
                "values.yaml": VALUES}),
    Case("deep-nesting", bump("--max-file-size", "100000"), 1, ("values.yaml", "nesting deeper"),
         files=cfg(**{"values.yaml": DEEP})),
    Case("oversize-file", bump("--max-file-size", "200"), 1, ("values.yaml", "byte limit"),
         files=cfg(**{"values.yaml": VALUES + "# padding\n" * 20})),
    Case("invalid-utf8", bump(), 1, ("values.yaml:4", "not valid UTF-8"),
         files=cfg(**{"values.yaml": VALUES.encode() + b"x: \xff\xfe\n"})),
    Case("nul-byte", bump(), 1, ("values.yaml", "invalid YAML"),
         files=cfg(**{"values.yaml": VALUES + "x: a\x00b\n"})),
    Case("utf16", bump(), 1, ("values.yaml", "UTF-16"),
         files=cfg(**{"values.yaml": VALUES.encode("utf-16")})),
    Case("duplicate-key", bump(), 1, ("values.yaml:4", "duplicate key 'image'"),
         files=cfg(**{"values.yaml": VALUES + "image: {}\n"})),
    Case("tab-indent", bump(), 1, ("values.yaml:", "invalid YAML"),
         files=cfg(**{"values.yaml": "image:\n\trepository: x\n"})),
    Case("config-unknown-key", bump(), 2, (".handoff.yaml:", "at apps.web", "bogus"),
         files={".handoff.yaml": CONFIG.format(path="values.yaml").replace("    image:", "    bogus: 1\n    image:"),
                "values.yaml": VALUES}),
    Case("config-two-documents", bump(), 2, (".handoff.yaml:", "single YAML document"),
         files={".handoff.yaml": CONFIG.format(path="values.yaml") + "---\napps: {}\n", "values.yaml": VALUES}),
    Case("config-app-name-newline", bump(), 2, (".handoff.yaml:",),
         files={".handoff.yaml": CONFIG.format(path="values.yaml").replace("  web:", '  "web\\n--x":'),
                "values.yaml": VALUES}),
    Case("keypath-missing", bump(), 1, ("values.yaml:", "image.tagg"),
         files={".handoff.yaml": CONFIG.format(path="values.yaml").replace("image.tag", "image.tagg"),
                "values.yaml": VALUES}),
    Case("block-scalar-target", bump(), 1, ("values.yaml:3", "block scalar"),
         files=cfg(**{"values.yaml": "image:\n  repository: ghcr.io/acme/web\n  tag: |\n    1.4.1\n"})),
    Case("unknown-app", bump("--app", "nope"), 2, ("nope",)),
    Case("missing-values", bump(), 1, ("values.yaml: file not found",), files={".handoff.yaml": GOOD[".handoff.yaml"]}),
    # -- validate / policy -------------------------------------------------------------------------------
    Case("validate-unknown-env", ("validate", "--config-repo", "REPO", "--env", "nope"), 2, ("nope",)),
    Case("validate-helm-values-outside", ("validate", "--config-repo", "REPO", "--env", "dev"), 1,
         ("outside", "OUT" if False else "values"),
         files={".handoff.yaml": "environments:\n  dev:\n    render:\n      type: helm\n      path: chart\n"
                                 "      values: [../outside/secret.yaml]\n",
                "chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n"}),
    Case("validate-kustomize-resource-outside", ("validate", "--config-repo", "REPO", "--env", "dev"), 1,
         ("outside",),
         files={".handoff.yaml": "environments:\n  dev:\n    render:\n      type: kustomize\n      path: app\n",
                "app/kustomization.yaml": "resources:\n  - ../../outside/secret.yaml\n"}),
    Case("validate-bad-param", ("validate", "--config-repo", "REPO", "--param", "novalue", "REPO/values.yaml"), 2,
         ("novalue",)),
    Case("validate-bad-k8s-version", ("validate", "--config-repo", "REPO", "--kubernetes-version", "1.x;rm",
                                      "REPO/values.yaml"), 2, ("1.x;rm",)),
    Case("policy-dir-alias-bomb", ("policy", "list", "--policies", "REPO/policies"), 1, ("p.yaml", "alias bomb"),
         files={"policies/p.yaml": "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\n"
                                   "metadata: {name: x}\nspec:\n  x:\n"
                                   + "".join(f"    {line}\n" for line in BOMB.splitlines())}),
    # -- propose / promote against the git server ------------------------------------------------------
    Case("branch-upload-pack", propose("--branch-template", "--upload-pack=touch OUT/pwned"), 2, ("branch",),
         files=MARKERS, remote=True),
    Case("base-upload-pack", propose("--base", "--upload-pack=touch OUT/pwned"), 2, ("--upload-pack",),
         files=MARKERS, remote=True),
    Case("branch-dotdot", propose("--branch-template", "handoff/../{app}"), 2, ("branch",), files=MARKERS,
         remote=True),
    Case("env-dotdot", ("propose", "--config-repo", "URL", "--image", "ghcr.io/acme/web:2.0.0", "--app",
                        "web", "--env", "..", "--token-env", "HANDOFF_TEST_TOKEN", "--git-username", "USER"),
         2, ("branch",), files=MARKERS, remote=True),
    Case("propose-image-injection", propose(image="-oProxyCommand=x"), 2, ("invalid image reference",),
         files=MARKERS, remote=True),
    Case("token-in-url", ("propose", "--config-repo", f"http://user:{SECRET}@127.0.0.1:9/x.git", "--image",
                          "ghcr.io/acme/web:2.0.0", "--app", "web", "--env", "dev"), 2, ("credentials",),
         files=MARKERS),
    Case("token-env-unset", ("propose", "--config-repo", "URL", "--image", "ghcr.io/acme/web:2.0.0", "--app", "web",
                             "--env", "dev", "--token-env", "HANDOFF_NO_SUCH_VAR"), 2, ("HANDOFF_NO_SUCH_VAR",),
         files=MARKERS, remote=True),
    Case("author-newline", propose("--author", "x <x@x>\n--evil"), 2, ("author",), files=MARKERS, remote=True),
    Case("ext-transport-url", ("propose", "--config-repo", "ext::sh -c touch% OUT/pwned", "--image",
                               "ghcr.io/acme/web:2.0.0", "--app", "web", "--env", "dev"), 2, ("ext::",),
         files=MARKERS),
    Case("promote-unknown-env", ("promote", "--config-repo", "URL", "--app", "web", "--from", "nope", "--to", "prod",
                                 "--token-env", "HANDOFF_TEST_TOKEN", "--git-username", "USER"), 2, ("nope",),
         files=cfg().__or__({".handoff.yaml": CONFIG.format(path="values.yaml").replace(
             "        tag:", "        repository: image.repository\n        tag:")}), remote=True),
    # -- reconciler ---------------------------------------------------------------------------------------
    Case("reconcile-token-in-url", reconcile(repo=f"https://git:{SECRET}@127.0.0.1:9/x.git"), 2, ("credentials",)),
    Case("reconcile-revision-injection", reconcile("--revision", "--upload-pack=touch OUT/pwned"), 2,
         ("revision",), remote=True, files=MARKERS),
    Case("reconcile-ext-transport", reconcile(repo="ext::sh -c touch% OUT/pwned"), 2, ("ext::",)),
    Case("reconcile-bad-interval", reconcile("--interval", "5parsecs"), 2, ("5parsecs",), remote=True),
    Case("reconcile-path-escape", reconcile("--path", "../../etc"), 2, ("../../etc",), remote=True),
    Case("reconcile-namespace-injection", reconcile("--target-namespace", "x\nkind: ClusterRole"), 2,
         ("namespace",), remote=True),
    Case("reconcile-config-bomb", ("reconcile", "--once", "--config", "REPO/reconciler.yaml", "--kubeconfig",
                                   "OUT/kubeconfig"), 2, ("reconciler.yaml", "alias bomb"),
         files={"reconciler.yaml": BOMB + "sources:\n  - name: a\n    url: *j\n"}),
    Case("reconcile-config-token-url", ("reconcile", "--once", "--config", "REPO/reconciler.yaml", "--kubeconfig",
                                        "OUT/kubeconfig"), 2, ("reconciler.yaml:3", "sources[0].url", "credentials"),
         files={"reconciler.yaml": f"sources:\n  - name: a\n    url: https://x:{SECRET}@127.0.0.1:9/r.git\n"}),
    Case("manifests-bad-namespace", ("reconciler", "manifests", "--namespace", "Bad_NS"), 2, ("Bad_NS",)),
    Case("manifests-image-injection", ("reconciler", "manifests", "--image", "-oProxyCommand=x"), 2,
         ("invalid image reference",)),
    Case("manifests-namespace-newline", ("reconciler", "manifests", "--namespace", "ns\nkind: ClusterRoleBinding"),
         2, ("namespace",)),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    git_server = GitServer(require_tool("git"), tmp_path_factory.mktemp("git-server"))
    git_server.start()
    yield git_server
    git_server.stop()
    forget_all()


def tree_state(root: Path) -> str:
    """A hash of every path, symlink target and file content under ``root``."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        if path.is_symlink():
            digest.update(b"L" + os.readlink(path).encode())
        elif path.is_file():
            digest.update(b"F" + path.read_bytes())
    return digest.hexdigest()


def remote_refs(bare: Path) -> str:
    return subprocess.run(["git", "--git-dir", str(bare), "for-each-ref", "--format=%(refname) %(objectname)"],
                          check=True, capture_output=True, text=True).stdout


def test_catalogue_is_big_enough() -> None:
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)
    assert {c.argv[0] for c in CASES} >= {"bump", "validate", "policy", "propose", "promote", "reconcile",
                                          "reconciler"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_is_refused_in_one_line_and_changes_nothing(
        case: Case, tmp_path: Path, server: GitServer, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    outside, repo = tmp_path / "outside", tmp_path / "repo"
    outside.mkdir()
    (outside / "secret.yaml").write_text(VALUES.replace("1.4.1", "outside-the-repo"))
    (outside / "kubeconfig").write_text(KUBECONFIG)
    repo.mkdir()
    for name, content in case.files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    for name, target in case.links.items():
        (repo / name).symlink_to(target.replace("OUT", str(outside)))
    url, bare = "", None
    if case.remote:
        url = server.create_repo(case.id, dict(case.files))
        bare = server.bare_path(case.id)
    monkeypatch.setenv("HANDOFF_TEST_TOKEN", str(server.password))
    monkeypatch.setenv("HANDOFF_LOG_DIR", str(tmp_path / "logs"))
    argv = [a.replace("REPO", str(repo)).replace("URL", url).replace("OUT", str(outside))
            .replace("USER", str(server.username)) for a in case.argv]
    before = (tree_state(tmp_path), remote_refs(bare) if bare else "")

    code = main(argv)

    out, err = capsys.readouterr()
    lines = err.strip("\n").split("\n")
    assert code == case.code, err
    assert len(lines) == 1 and lines[0].startswith("handoff: error: "), err
    for words in case.says:
        assert words in lines[0], lines[0]
    assert SECRET not in out + err and str(server.password) not in out + err
    assert (tree_state(tmp_path), remote_refs(bare) if bare else "") == before
    assert not (outside / "pwned").exists()
