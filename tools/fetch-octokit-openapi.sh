#!/usr/bin/env bash
# Fetch GitHub's official OpenAPI description (npm package @octokit/openapi) into a cache dir outside
# the repo and print the path of the bundled api.github.com JSON description. Idempotent.
# Used by the GitHub contract tests (tests/propose/contract/) to validate every request handoff sends.
set -euo pipefail
VERSION="${OCTOKIT_OPENAPI_VERSION:-23.0.2}"
CACHE="${HANDOFF_TOOLS_CACHE:-$HOME/.cache/handoff-tools}/octokit-openapi-$VERSION"
SPEC="$CACHE/node_modules/@octokit/openapi/generated/api.github.com.json"
if [[ ! -s "$SPEC" ]]; then
  mkdir -p "$CACHE"
  npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$CACHE" "@octokit/openapi@$VERSION" >&2
fi
test -s "$SPEC"
echo "$SPEC"
