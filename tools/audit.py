#!/usr/bin/env python3
"""Audit the locked dependency set against PyPI's vulnerability data, saying honestly how much was audited.

Why not just `pip-audit -r requirements.lock`: it asks PyPI for per-release JSON (/pypi/NAME/VERSION/json) or
api.osv.dev. Where neither is reachable (a registry proxy that serves only project pages), pip-audit prints
"Dependency not found on PyPI and could not be audited" for every package, then "No known vulnerabilities
found", and exits 0: a green audit of nothing.

This script, for each ``name==version`` in the lock file:
  1. asks for the per-release JSON; when served, its ``vulnerabilities`` are exactly the locked version's;
  2. else reads the project JSON (/pypi/NAME/json). Its ``vulnerabilities`` describe the latest release
     only, so they count as an audit of the locked version only when the locked version *is* the latest.
     The project JSON also says whether the locked version exists and whether it was yanked.
A known, non-withdrawn vulnerability of the locked version, a yanked or nonexistent locked version fails the
audit (exit 1). Packages whose version could not be audited are listed and counted; ``--min-coverage`` turns
too little coverage into a failure (exit 2), as does PyPI being unreachable.

Usage: tools/audit.py [-r requirements.lock] [--index https://pypi.org] [--min-coverage 0.0]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FINDINGS, EXIT_INCOMPLETE = 0, 1, 2
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)")
MAX_BODY = 64 * 1024 * 1024


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    line: int

    @property
    def project(self) -> str:
        return re.sub(r"[-_.]+", "-", self.name).lower()


@dataclass(frozen=True)
class Verdict:
    pin: Pin
    audited_by: str = ""  # "release" | "latest" | "" (not audited)
    vulnerabilities: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # yanked, missing: failures independent of vulnerability data
    notes: tuple[str, ...] = field(default=())
    error: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.vulnerabilities or self.problems)


def read_pins(path: Path) -> list[Pin]:
    pins = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", "-")):
            continue
        match = _PIN.match(line)
        if match is None:
            raise SystemExit(f"{path}:{number}: not a name==version pin: {line!r}")
        pins.append(Pin(match.group(1), match.group(2), number))
    return pins


def fetch_json(url: str, timeout: float) -> dict[str, Any] | None:
    """The JSON document at ``url``, or None for a 404."""
    headers = {"Accept": "application/json", "User-Agent": "handoff-audit"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (main() allows http(s) only)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(MAX_BODY + 1)
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise
    if len(body) > MAX_BODY:
        raise ValueError(f"{url}: response larger than {MAX_BODY} bytes")
    document = json.loads(body)
    if not isinstance(document, dict):
        raise ValueError(f"{url}: not a JSON object")
    return document


def _active(vulnerabilities: Any) -> list[str]:
    found = []
    for v in vulnerabilities or ():
        if not isinstance(v, dict) or v.get("withdrawn"):
            continue
        ident = str(v.get("id") or "unknown")
        aliases = [str(a) for a in v.get("aliases") or () if str(a) != ident]
        fixed = ", ".join(str(f) for f in v.get("fixed_in") or ()) or "no fixed version"
        found.append(f"{ident}{' (' + ', '.join(aliases) + ')' if aliases else ''}: fixed in {fixed}")
    return found


def audit_one(pin: Pin, index: str, timeout: float) -> Verdict:
    base = f"{index.rstrip('/')}/pypi/{urllib.parse.quote(pin.project)}"
    try:
        release = fetch_json(f"{base}/{urllib.parse.quote(pin.version)}/json", timeout)
        project = fetch_json(f"{base}/json", timeout)
    except (OSError, ValueError) as e:
        return Verdict(pin, error=f"{type(e).__name__}: {e}")
    if project is None:
        return Verdict(pin, problems=("not found on the index",))
    problems: list[str] = []
    files = (project.get("releases") or {}).get(pin.version)
    if files is None:
        problems.append(f"version {pin.version} does not exist on the index")
    elif files and all(f.get("yanked") for f in files):
        reason = next((f["yanked_reason"] for f in files if f.get("yanked_reason")), "no reason given")
        problems.append(f"version {pin.version} was yanked ({reason})")
    latest = str((project.get("info") or {}).get("version") or "")
    if release is not None:
        return Verdict(pin, "release", tuple(_active(release.get("vulnerabilities"))), tuple(problems))
    if latest == pin.version:
        return Verdict(pin, "latest", tuple(_active(project.get("vulnerabilities"))), tuple(problems))
    notes = []
    if _active(project.get("vulnerabilities")):
        notes.append(f"the latest release {latest} has known vulnerabilities; {pin.version} may share them")
    return Verdict(pin, problems=tuple(problems), notes=(f"locked {pin.version}, latest {latest}", *notes))


def report(verdicts: Sequence[Verdict], min_coverage: float) -> tuple[list[str], int]:
    lines: list[str] = []
    for v in verdicts:
        pin = f"{v.pin.name}=={v.pin.version}"
        if v.error:
            lines.append(f"ERROR       {pin}: {v.error}")
            continue
        for vuln in v.vulnerabilities:
            lines.append(f"VULNERABLE  {pin}: {vuln}")
        for problem in v.problems:
            lines.append(f"FAILED      {pin}: {problem}")
        if not v.failed:
            how = {"release": "audited (release data)", "latest": "audited (latest release)"}.get(
                v.audited_by, "NOT AUDITED")
            lines.append(f"{how:<26}  {pin}" + (f": {'; '.join(v.notes)}" if v.notes else ""))
    total = len(verdicts)
    by_release = sum(v.audited_by == "release" for v in verdicts)
    by_latest = sum(v.audited_by == "latest" for v in verdicts)
    errors = sum(bool(v.error) for v in verdicts)
    audited = by_release + by_latest
    coverage = audited / total if total else 1.0
    vulnerable = sum(bool(v.vulnerabilities) for v in verdicts)
    problems = sum(bool(v.problems) for v in verdicts)
    lines.append(
        f"audited {audited} of {total} locked packages ({coverage:.0%}): {by_release} from per-release data, "
        f"{by_latest} from the project page at their latest version; {total - audited - errors} not audited "
        f"(per-release data not served and not the latest version), {errors} unreachable; "
        f"{vulnerable} vulnerable, {problems} yanked or missing; every package checked for yanked/missing: "
        f"{'yes' if not errors else 'no'}")
    if vulnerable or problems:
        return lines, EXIT_FINDINGS
    if errors == total or coverage < min_coverage:
        lines.append(f"audit incomplete: coverage {coverage:.0%} is below the required {min_coverage:.0%}"
                     if errors != total else "audit incomplete: the index was unreachable")
        return lines, EXIT_INCOMPLETE
    return lines, EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-r", "--requirements", type=Path, default=Path("requirements.lock"))
    parser.add_argument("--index", default="https://pypi.org", help="PyPI base URL (JSON API under /pypi/).")
    parser.add_argument("--min-coverage", type=float, default=0.0,
                        help="Fail (exit 2) when less than this fraction of the pins could be audited.")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    if urllib.parse.urlsplit(args.index).scheme not in ("http", "https"):
        parser.error("--index must be an http(s) URL")
    pins = read_pins(args.requirements)
    with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        verdicts = list(pool.map(lambda p: audit_one(p, args.index, args.timeout), pins))
    lines, code = report(verdicts, args.min_coverage)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
