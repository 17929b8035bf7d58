"""The GitLab component, included with inputs as GitLab does and its job script run as the runner does;
the classic include template and the Jenkins step run the very same script."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema
from ruamel.yaml import YAML

from .configrepo import FILES, GIT_ENV, make_config_repo
from .gitlab import include_component, run_job
from .paths import REPO, SCHEMAS

COMPONENT = REPO / "gitlab-templates" / "templates" / "handoff.yml"
CLASSIC = REPO / "gitlab-templates" / "handoff.gitlab-ci.yml"
GROOVY = REPO / "examples" / "jenkins" / "vars" / "handoff.groovy"
HOSTILE = '$(touch pwned)"; rm -rf victim; echo "`touch pwned2`'


def _env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path), **GIT_ENV}


def _job(inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    jobs = include_component(COMPONENT, {"handoff-image": "registry.example.com/handoff:0.1.0", **inputs})
    assert len(jobs) == 1
    return next(iter(jobs.items()))


def test_component_job_proposes_and_writes_dotenv_and_junit(tmp_path: Path, git_server: Any) -> None:
    url = git_server.create_repo("config", dict(FILES))
    name, job = _job({"image": "registry.example.com/acme/web", "tag": "1.1.0", "app": "web", "env": "dev",
                      "config-repo": url, "forge": "local", "job-prefix": "bump", "labels": HOSTILE,
                      "git-username": git_server.username})
    assert name == "bump-propose" and job["stage"] == "deploy"
    assert job["image"] == {"name": "registry.example.com/handoff:0.1.0", "entrypoint": [""]}
    project = tmp_path / "project"
    (project / "victim").mkdir(parents=True)
    # The project access token, as a masked CI/CD variable named by the token-variable input.
    proc = run_job(job, project, {**_env(tmp_path), "HANDOFF_TOKEN": git_server.password})
    assert proc.returncode == 0, proc.stderr
    for text in (proc.stdout, proc.stderr, (project / "handoff.env").read_text(), "\n".join(git_server.requests)):
        assert git_server.password not in text
    dotenv = dict(line.split("=", 1) for line in (project / "handoff.env").read_text().splitlines())
    assert dotenv["HANDOFF_OPERATION"] == "created"
    assert dotenv["HANDOFF_BRANCH"] == "handoff/dev/web"
    assert "HANDOFF_MR_IID" in dotenv and "HANDOFF_MR_URL" in dotenv
    xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd")).validate(str(project / "handoff-junit.xml"))
    assert not (project / "pwned").exists() and not (project / "pwned2").exists()
    assert (project / "victim").is_dir()
    for reported in (job["artifacts"]["reports"]["dotenv"], job["artifacts"]["reports"]["junit"]):
        assert (project / reported).is_file()


def test_component_validate_job_fails_on_findings_with_junit(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "envs").mkdir(parents=True)
    (project / "envs" / "web.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: three}\n"
    )
    _, job = _job({"command": "validate", "path": "envs"})
    proc = run_job(job, project, _env(tmp_path))
    assert proc.returncode == 1
    junit = (project / "handoff-junit.xml").read_text()
    xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd")).validate(junit)
    assert "<failure" in junit


def test_inputs_are_checked_as_gitlab_checks_them() -> None:
    with pytest.raises(AssertionError, match="options"):
        _job({"command": "deploy-everything"})
    with pytest.raises(AssertionError, match="does not match"):
        _job({"job-prefix": "Bad Prefix"})


def _component_script() -> str:
    return _job({})[1]["script"][0]


def test_classic_template_runs_the_same_script() -> None:
    classic = YAML(typ="safe").load(CLASSIC.read_text())[".handoff"]
    assert classic["script"][0] == _component_script()
    assert classic["artifacts"] == _job({})[1]["artifacts"]
    assert set(classic["variables"]) - {"HANDOFF_CONTAINER_IMAGE"} == set(_job({})[1]["variables"])


def jenkins_script() -> str:
    """The shell script of the Jenkins step, exactly as the Groovy file holds it."""
    text = GROOVY.read_text()
    match = re.search(r"sh label: 'handoff', script: '''\n(.*?)'''", text, re.S)
    assert match, "no single-quoted sh script in handoff.groovy"
    script = match.group(1)
    assert "\\" not in script  # Groovy would process backslash escapes in a ''' string
    return script


def test_jenkins_step_runs_its_own_script(tmp_path: Path) -> None:
    origin = make_config_repo(tmp_path)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    env = {**_env(tmp_path), "HANDOFF_COMMAND": "propose", "HANDOFF_IMAGE": "registry.example.com/acme/web",
           "HANDOFF_TAG": "2.0.0", "HANDOFF_DIGEST": "", "HANDOFF_APP": "web", "HANDOFF_ENV": "dev", "HANDOFF_CONFIG_REPO": str(origin),
           "HANDOFF_FORGE": "local", "HANDOFF_PROJECT": "", "HANDOFF_FORGE_URL": "", "HANDOFF_GIT_USERNAME": "", "HANDOFF_TOKEN_VARIABLE": "HANDOFF_TOKEN", "HANDOFF_MODE": "",
           "HANDOFF_BASE": "", "HANDOFF_LABELS": HOSTILE, "HANDOFF_REVIEWERS": "", "HANDOFF_DRAFT": "false",
           "HANDOFF_AUTO_MERGE": "false", "HANDOFF_DRY_RUN": "false", "HANDOFF_PATH": ".",
           "HANDOFF_FAIL_ON": "error"}
    # Jenkins' sh step runs the script with `sh -xe`.
    proc = subprocess.run(["sh", "-xe", "-c", jenkins_script()], cwd=workspace, env=env,
                          capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "HANDOFF_OPERATION=created" in (workspace / "handoff.env").read_text()
    xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd")).validate(str(workspace / "handoff-junit.xml"))
    assert not (workspace / "pwned").exists()


def test_jenkins_script_is_the_gitlab_script() -> None:
    def body(s: str) -> list[str]:
        return [line.strip() for line in s.splitlines() if line.strip() and not line.strip().startswith("#")]

    assert body(jenkins_script()) == body(_component_script())


def test_publish_lays_out_a_catalog_component_project(tmp_path: Path) -> None:
    """The catalog reads `templates/` at the project root: publish.sh builds that project from these
    sources, with the spec:inputs header intact and schema-valid, and the image default it is told."""
    dest = tmp_path / "handoff-ci"
    digest = "sha256:" + "a" * 64
    mirror = f"registry.example.com/mirror/handoff:0.1.0@{digest}"
    proc = subprocess.run(["bash", str(REPO / "gitlab-templates" / "publish.sh"), str(dest), "--image", mirror],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        ".gitlab-ci.yml", "README.md", "handoff.gitlab-ci.yml", "templates/handoff.yml"]
    published = dest / "templates" / "handoff.yml"
    header, body = list(YAML(typ="safe").load_all(published.read_text()))
    source_header, source_body = list(YAML(typ="safe").load_all(COMPONENT.read_text()))
    assert header["spec"]["inputs"]["handoff-image"]["default"] == mirror
    source_header["spec"]["inputs"]["handoff-image"]["default"] = mirror
    assert (header, body) == (source_header, source_body)  # nothing else changed
    validator = jsonschema.Draft7Validator(json.loads((SCHEMAS / "gitlab-ci.json").read_text()))
    for doc in (header, body, YAML(typ="safe").load((dest / ".gitlab-ci.yml").read_text())):
        assert list(validator.iter_errors(doc)) == []
    release = YAML(typ="safe").load((dest / ".gitlab-ci.yml").read_text())["create-release"]
    assert release["release"]["tag_name"] == "$CI_COMMIT_TAG"
    jobs = include_component(published, {})
    assert next(iter(jobs.values()))["image"]["name"] == mirror
    classic = YAML(typ="safe").load((dest / "handoff.gitlab-ci.yml").read_text())[".handoff"]
    assert classic["variables"]["HANDOFF_CONTAINER_IMAGE"] == mirror
    refused = subprocess.run(["bash", str(REPO / "gitlab-templates" / "publish.sh"), str(tmp_path / "x"),
                              "--image", "$(touch pwned)"], capture_output=True, text=True, check=False)
    assert refused.returncode == 2 and not (tmp_path / "x").exists()


def test_component_has_an_image_default_and_a_digest_input(tmp_path: Path, git_server: Any) -> None:
    jobs = include_component(COMPONENT, {})
    assert next(iter(jobs.values()))["image"]["name"].startswith("ghcr.io/handoff-gitops/handoff:")
    with pytest.raises(AssertionError, match="does not match"):
        _job({"digest": "latest"})
    files = dict(FILES)
    files[".handoff.yaml"] = FILES[".handoff.yaml"].replace("tag: image.tag}", "tag: image.tag, digest: image.digest}")
    files["values.yaml"] = FILES["values.yaml"] + '  digest: ""\n'
    url = git_server.create_repo("config", files)
    digest = "sha256:" + "b" * 64
    _, job = _job({"image": "registry.example.com/acme/web", "tag": "1.1.0", "digest": digest, "app": "web",
                   "env": "dev", "config-repo": url, "forge": "local", "git-username": git_server.username,
                   "dry-run": True})
    project = tmp_path / "project"
    project.mkdir()
    proc = run_job(job, project, {**_env(tmp_path), "HANDOFF_TOKEN": git_server.password})
    assert proc.returncode == 0, proc.stderr
    result = json.loads((project / "handoff-result.json").read_text())
    assert result["image"] == f"registry.example.com/acme/web:1.1.0@{digest}"


def test_a_failing_propose_puts_its_cause_in_the_log_and_dotenv(tmp_path: Path, git_server: Any) -> None:
    files = dict(FILES)
    files[".handoff.yaml"] = FILES[".handoff.yaml"].replace("path: chart", "path: manifests-missing")
    url = git_server.create_repo("config", files)
    _, job = _job({"image": "registry.example.com/acme/web", "tag": "1.1.0", "app": "web", "env": "dev",
                   "config-repo": url, "forge": "local", "git-username": git_server.username})
    project = tmp_path / "project"
    project.mkdir()
    proc = run_job(job, project, {**_env(tmp_path), "HANDOFF_TOKEN": git_server.password})
    assert proc.returncode == 1
    assert "handoff: error: validation could not run" in proc.stderr and "manifests-missing" in proc.stderr
    dotenv = dict(line.split("=", 1) for line in (project / "handoff.env").read_text().splitlines())
    assert "manifests-missing" in dotenv["HANDOFF_ERROR"]
    junit = (project / "handoff-junit.xml").read_text()
    assert "could-not-validate" in junit and "manifests-missing" in junit


def test_a_usage_error_reaches_dotenv_and_junit(tmp_path: Path, git_server: Any) -> None:
    url = git_server.create_repo("config", dict(FILES))
    _, job = _job({"image": "registry.example.com/acme/web", "tag": "1.1.0", "app": "web", "env": "dev",
                   "config-repo": url, "forge": "gitlab", "git-username": git_server.username})
    project = tmp_path / "project"
    project.mkdir()
    # no project access token, and the predefined CI_JOB_TOKEN is not the config repo's
    proc = run_job(job, project, _env(tmp_path))
    assert proc.returncode != 0
    dotenv = dict(line.split("=", 1) for line in (project / "handoff.env").read_text().splitlines())
    assert dotenv["HANDOFF_ERROR"] and dotenv["HANDOFF_ERROR"] in proc.stderr
    # the job token is the only token there: the cause says it cannot open MRs and what to set instead
    assert "CI_JOB_TOKEN cannot open merge requests" in dotenv["HANDOFF_ERROR"]
    assert "GITLAB_TOKEN" in dotenv["HANDOFF_ERROR"]
    junit = (project / "handoff-junit.xml").read_text()
    xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd")).validate(junit)
    assert "<failure" in junit and "handoff-error" in junit


def test_the_token_never_reaches_the_shell_trace(tmp_path: Path) -> None:
    """Jenkins runs `sh -xe` (and GitLab's CI_DEBUG_TRACE traces too): the script checks that the token
    variable is set without expanding its value, so the trace shows no token, masked or not."""
    origin = make_config_repo(tmp_path)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    token = "trace-Secret-0123456789abcdef"
    env = {**_env(tmp_path), "HANDOFF_COMMAND": "propose", "HANDOFF_IMAGE": "registry.example.com/acme/web",
           "HANDOFF_TAG": "2.0.0", "HANDOFF_DIGEST": "", "HANDOFF_APP": "web", "HANDOFF_ENV": "dev",
           "HANDOFF_CONFIG_REPO": str(origin), "HANDOFF_FORGE": "local", "HANDOFF_PROJECT": "",
           "HANDOFF_FORGE_URL": "", "HANDOFF_GIT_USERNAME": "", "HANDOFF_TOKEN_VARIABLE": "HANDOFF_TOKEN",
           "HANDOFF_TOKEN": token, "HANDOFF_MODE": "", "HANDOFF_BASE": "", "HANDOFF_LABELS": "",
           "HANDOFF_REVIEWERS": "", "HANDOFF_DRAFT": "false", "HANDOFF_AUTO_MERGE": "false",
           "HANDOFF_DRY_RUN": "true", "HANDOFF_PATH": ".", "HANDOFF_FAIL_ON": "error"}
    for script in (jenkins_script(), _component_script()):
        proc = subprocess.run(["sh", "-xe", "-c", script], cwd=workspace, env=env, capture_output=True, text=True,
                              check=False, timeout=600)
        assert "--token-env HANDOFF_TOKEN" in proc.stderr  # the variable's name is passed, traced
        assert token not in proc.stdout + proc.stderr
