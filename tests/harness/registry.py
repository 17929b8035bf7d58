"""The CNCF distribution registry (Debian ``docker-registry``) on 127.0.0.1, plus tiny images pushed with skopeo."""

import json
import secrets
import subprocess
from pathlib import Path
from typing import Literal

from tests.harness.http import is_ok, request
from tests.harness.ports import free_port
from tests.harness.process import ServerProcess, clean_env

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
# Without the OCI types an OCI manifest answers 404; without any, a Docker v2 manifest is converted to schema1.
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST))

ManifestFormat = Literal["oci", "docker"]


class Registry:
    """A plain-HTTP registry; ``url`` is ``127.0.0.1:PORT`` as it appears in image references."""

    def __init__(self, docker_registry: Path, skopeo: Path, umoci: Path, workdir: Path) -> None:
        self.workdir = workdir
        self.skopeo = skopeo
        self.umoci = umoci
        port = free_port()
        self.url = f"127.0.0.1:{port}"
        config = workdir / "config.yml"
        # JSON is YAML: no YAML writer needed for the registry's config file.
        config.write_text(
            json.dumps(
                {
                    "version": 0.1,
                    "log": {"level": "warn", "accesslog": {"disabled": True}},
                    "storage": {
                        "filesystem": {"rootdirectory": str(workdir / "storage")},
                        "delete": {"enabled": True},
                    },
                    "http": {"addr": self.url, "secret": secrets.token_hex(16)},
                }
            )
        )
        self._server = ServerProcess(
            "docker-registry",
            [str(docker_registry), "serve", str(config)],
            workdir / "registry.log",
            clean_env(),
        )

    def start(self) -> None:
        self._server.start()
        self._server.wait_until(lambda: is_ok(f"http://{self.url}/v2/"), 60, "answering /v2/")

    def stop(self) -> None:
        self._server.stop()

    def logs(self, lines: int = 60) -> str:
        return f"--- docker-registry ({self._server.log_file}):\n{self._server.log_tail(lines)}"

    def push_image(self, name: str, tag: str, *, manifest_format: ManifestFormat = "oci") -> str:
        """Build a one-file image (its content names name:tag, so digests differ) and push it; returns its digest.

        ``manifest_format="docker"`` stores a Docker v2 schema 2 manifest instead of an OCI one.
        """
        layout = self.workdir / "layouts" / f"{name.replace('/', '_')}-{secrets.token_hex(4)}"
        layout.parent.mkdir(parents=True, exist_ok=True)
        payload = layout.parent / f"{layout.name}.txt"
        payload.write_text(f"{name}:{tag}\n")
        env = clean_env()
        self._run([str(self.umoci), "init", "--layout", str(layout)], env)
        self._run([str(self.umoci), "new", "--image", f"{layout}:{tag}"], env)
        self._run([str(self.umoci), "insert", "--image", f"{layout}:{tag}", str(payload), "/image.txt"], env)
        push = [
            str(self.skopeo),
            "--insecure-policy",
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            f"oci:{layout}:{tag}",
            f"docker://{self.url}/{name}:{tag}",
        ]
        if manifest_format == "docker":
            push[4:4] = ["--format", "v2s2"]
        self._run(push, env)
        return self.digest(name, tag)

    def digest(self, name: str, reference: str) -> str:
        """The manifest digest the registry reports for name:reference (HEAD with every manifest type accepted)."""
        resp = request(
            f"http://{self.url}/v2/{name}/manifests/{reference}",
            method="HEAD",
            headers={"Accept": MANIFEST_ACCEPT},
        )
        if resp.status != 200:
            raise RuntimeError(f"registry answered {resp.status} for {name}:{reference}")
        digest = resp.headers["Docker-Content-Digest"]
        if not digest:
            raise RuntimeError(f"registry sent no Docker-Content-Digest for {name}:{reference}")
        return str(digest)

    @staticmethod
    def _run(argv: list[str], env: dict[str, str]) -> None:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
