#!/usr/bin/env bash
# `make demo`: bump an image in a throwaway copy of examples/config-repo and show the diff.
# No network, no accounts: a local git repo and the real `handoff bump`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
handoff="${HANDOFF:-$root/.venv/bin/handoff}"
[ -x "$handoff" ] || handoff="handoff"

work="$(mktemp -d "${TMPDIR:-/tmp}/handoff-demo.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -R "$here/config-repo/." "$work/"
cd "$work"
git init -q -b main .
git -c user.name=demo -c user.email=demo@example.invalid add -A
git -c user.name=demo -c user.email=demo@example.invalid commit -q -m "config repo before the bump"

image="ghcr.io/acme/web:1.5.0@sha256:4b1f3e8a9c2d7f6e5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"
echo "== handoff bump --image $image --env prod --dry-run --output json (nothing written)"
"$handoff" bump --image "$image" --env prod --dry-run --output json | head -n 12
echo "   ..."
echo
echo "== handoff bump --image $image"
"$handoff" bump --image "$image"
echo
echo "== git diff (only the image values changed; comments, quoting and layout untouched)"
git --no-pager diff --stat
git --no-pager diff
echo
echo "== the same bump again is a no-op (exit 0, changed: false)"
"$handoff" bump --image "$image" --output json | head -n 2
