"""A real docker credential helper (``docker-credential-NAME``, the docker-credential-helpers protocol)
written into a test's bin directory: ``get`` reads the server URL on stdin and answers
``{"ServerURL", "Username", "Secret"}`` from its table, or exits 1 with "credentials not found in native
keychain" as the real helpers do. Every call is recorded (argv and stdin) for the test to inspect.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

_SCRIPT = '''#!{python}
import json, sys
from pathlib import Path
here = Path({here!r})
server = sys.stdin.read().strip()
with (here / "{name}.calls").open("a") as calls:
    calls.write(json.dumps({{"argv": sys.argv[1:], "stdin": server}}) + "\\n")
behaviour = json.loads((here / "{name}.json").read_text())
if "fail" in behaviour:
    sys.stdout.write(behaviour["fail"] + "\\n")
    sys.exit(3)
entry = behaviour.get("table", {{}}).get(server)
if sys.argv[1:] != ["get"] or entry is None:
    sys.stdout.write("credentials not found in native keychain\\n")
    sys.exit(1)
json.dump({{"ServerURL": server, "Username": entry[0], "Secret": entry[1]}}, sys.stdout)
'''


class CredentialHelper:
    def __init__(self, bin_dir: Path, name: str) -> None:
        self.bin_dir, self.name = bin_dir, name
        bin_dir.mkdir(parents=True, exist_ok=True)
        program = bin_dir / f"docker-credential-{name}"
        program.write_text(_SCRIPT.format(python=sys.executable, here=str(bin_dir), name=name))
        program.chmod(0o755)
        self.answer({})

    def answer(self, table: dict[str, tuple[str, str]]) -> None:
        """Serve ``table`` (server URL -> (username, secret)); any other server is "not found"."""
        (self.bin_dir / f"{self.name}.json").write_text(json.dumps({"table": table}))

    def fail_with(self, message: str) -> None:
        (self.bin_dir / f"{self.name}.json").write_text(json.dumps({"fail": message}))

    @property
    def calls(self) -> list[dict[str, object]]:
        path = self.bin_dir / f"{self.name}.calls"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]


def write_docker_config(directory: Path, config: dict[str, object]) -> dict[str, str]:
    """``config.json`` in ``directory``; returns the environment that points Docker tools at it."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config))
    return {"DOCKER_CONFIG": str(directory)}
