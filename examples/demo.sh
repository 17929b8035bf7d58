#!/usr/bin/env bash
# `make demo`: the main job on the embedded example, end to end, with no accounts, cluster or network.
#   1. a throwaway config repo (examples/config-repo) behind a local bare "remote";
#   2. handoff bump: only the image values change (git diff shows it);
#   3. handoff validate: render the prod overlay, check schemas and the built-in policy pack;
#   4. handoff propose --forge local: branch handoff/prod/web, commit, push, and the proposal (the PR body);
#   5. handoff promote: the image dev runs is proposed to prod.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
handoff="${HANDOFF:-$root/.venv/bin/handoff}"
[ -x "$handoff" ] || handoff="handoff"
export PATH="$root/.tools/bin:$PATH"
# Rendering the Kustomize overlays needs kustomize (or kubectl kustomize); build just that one if neither is here.
if ! command -v kustomize >/dev/null && ! command -v kubectl >/dev/null; then
  HANDOFF_TOOLS_ONLY=kustomize bash "$root/tools/install.sh"
fi
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.invalid
export GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.invalid

work="$(mktemp -d "${TMPDIR:-/tmp}/handoff-demo.XXXXXX")"
trap 'rm -rf "$work"' EXIT
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }

# A config repo with one commit, and a bare clone that plays the remote (the forge).
mkdir "$work/config"
cp -R "$here/config-repo/." "$work/config/"
git -C "$work/config" init -q -b main
git -C "$work/config" add -A
git -C "$work/config" commit -q -m "config repo before the bump"
git clone -q --bare "$work/config" "$work/remote.git"

image="ghcr.io/acme/web:1.5.0@sha256:4b1f3e8a9c2d7f6e5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"

say "handoff bump --image $image --config-repo config --dry-run   (prints the diff, writes nothing)"
"$handoff" bump --image "$image" --config-repo "$work/config" --dry-run

say "handoff bump --image $image --config-repo config"
"$handoff" bump --image "$image" --config-repo "$work/config"
say "git diff --stat   (only the image values changed; comments, quoting and layout untouched)"
git -C "$work/config" --no-pager diff --stat
say "the same bump again is a no-op (exit 0, changed: false)"
"$handoff" bump --image "$image" --config-repo "$work/config" --output json | head -n 2
git -C "$work/config" checkout -q -- .

say "handoff validate --config-repo config --env prod   (render the prod overlay; schemas + policies)"
"$handoff" validate --config-repo "$work/config" --env prod || true

say "handoff propose --mode direct --env dev   (dev deploys every build: commit straight to main)"
"$handoff" propose --image "$image" --app web --env dev --config-repo "$work/remote.git" --forge local \
  --mode direct
git --git-dir "$work/remote.git" --no-pager log --oneline -2 main

say "handoff promote --app web --from dev --to prod   (the same artifact, as a rolling PR for prod)"
"$handoff" promote --app web --from dev --to prod --config-repo "$work/remote.git" --forge local
say "the proposal the local forge recorded on branch handoff/prod/web (the PR body)"
git --git-dir "$work/remote.git" show handoff/prod/web:.handoff/proposals/prod-web.md

say "promoting again does nothing (operation: none): one rolling PR per app and environment"
"$handoff" promote --app web --from dev --to prod --config-repo "$work/remote.git" --forge local \
  --output json | grep '"operation"'
