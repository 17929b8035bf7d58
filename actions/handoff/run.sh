#!/usr/bin/env bash
# The composite action's steps. Inputs arrive only as HANDOFF_* environment variables (mapped in
# action.yml), are always quoted, and reach handoff as separate argv entries: never evaluated.
set -euo pipefail

action_root() {
  # actions/handoff/ sits two levels below the repository root the action was checked out from.
  (cd "$GITHUB_ACTION_PATH/../.." && pwd)
}

prepare() {
  local requirement source_id python_version key venv_root
  if [[ -n "${HANDOFF_PIP_SPEC:-}" ]]; then
    requirement=$HANDOFF_PIP_SPEC
    source_id=$HANDOFF_PIP_SPEC
  elif [[ -n "${HANDOFF_VERSION:-}" ]]; then
    requirement="handoff[forge]==${HANDOFF_VERSION#v}"
    source_id=$requirement
  else
    # The CLI that matches the action ref is the one in the action's own checkout.
    local root
    root=$(action_root)
    requirement="${root}[forge]"
    # Tags move (v1 -> newer commit): key the cache on the content, not on the path.
    source_id=$(cd "$root" && find -L pyproject.toml handoff -type f ! -path '*/__pycache__/*' -print0 \
      | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  fi
  python_version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  key="handoff-venv-${RUNNER_OS:-Linux}-${RUNNER_ARCH:-X64}-py${python_version}-$(printf '%s' "$source_id" | sha256sum | cut -c1-16)"
  venv_root=${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}
  {
    printf 'venv=%s\n' "$venv_root/handoff/$key"
    printf 'cache-key=%s\n' "$key"
    printf 'requirement<<HANDOFF_EOF_%s\n%s\nHANDOFF_EOF_%s\n' "$key" "$requirement" "$key"
  } >>"$GITHUB_OUTPUT"
}

install() {
  python3 -m venv "$HANDOFF_VENV"
  "$HANDOFF_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$HANDOFF_PIP_REQUIREMENT"
  "$HANDOFF_VENV/bin/handoff" --version
}

is_true() {
  [[ "${1,,}" == "true" ]]
}

mask_token() {
  [[ -n "${HANDOFF_TOKEN:-}" ]] || return 0
  echo "::add-mask::$HANDOFF_TOKEN"
  # Derived forms a library might print: the basic-auth header value git and forges use.
  echo "::add-mask::$(printf 'x-access-token:%s' "$HANDOFF_TOKEN" | base64 -w0)"
  echo "::add-mask::$(printf 'oauth2:%s' "$HANDOFF_TOKEN" | base64 -w0)"
}

propose_args() {
  local image=$HANDOFF_IMAGE
  [[ -z "${HANDOFF_TAG:-}" ]] || image="$image:$HANDOFF_TAG"
  [[ -z "${HANDOFF_DIGEST:-}" ]] || image="$image@$HANDOFF_DIGEST"
  args=(propose --image "$image" --app "$HANDOFF_APP" --env "$HANDOFF_ENV" --output json)
  [[ -z "${HANDOFF_CONFIG_REPO:-}" ]] || args+=(--config-repo "$HANDOFF_CONFIG_REPO")
  [[ -z "${HANDOFF_FORGE:-}" ]] || args+=(--forge "$HANDOFF_FORGE")
  [[ -z "${HANDOFF_MODE:-}" ]] || args+=(--mode "$HANDOFF_MODE")
  [[ -z "${HANDOFF_BASE:-}" ]] || args+=(--base "$HANDOFF_BASE")
  [[ -z "${HANDOFF_PROJECT:-}" ]] || args+=(--project "$HANDOFF_PROJECT")
  [[ -z "${HANDOFF_FORGE_URL:-}" ]] || args+=(--forge-url "$HANDOFF_FORGE_URL")
  [[ -z "${HANDOFF_BRANCH:-}" ]] || args+=(--branch-template "$HANDOFF_BRANCH")
  [[ -z "${HANDOFF_ON_INVALID:-}" ]] || args+=(--on-invalid "$HANDOFF_ON_INVALID")
  [[ -z "${HANDOFF_LABELS:-}" ]] || args+=(--labels "$HANDOFF_LABELS")
  [[ -z "${HANDOFF_REVIEWERS:-}" ]] || args+=(--reviewers "$HANDOFF_REVIEWERS")
  [[ -z "${HANDOFF_TOKEN:-}" ]] || args+=(--token-env HANDOFF_TOKEN)
  [[ -z "${HANDOFF_GIT_USERNAME:-}" ]] || args+=(--git-username "$HANDOFF_GIT_USERNAME")
  ! is_true "${HANDOFF_DRAFT:-false}" || args+=(--draft)
  ! is_true "${HANDOFF_AUTO_MERGE:-false}" || args+=(--auto-merge)
  [[ -z "${HANDOFF_SIGN:-}" || "${HANDOFF_SIGN,,}" == false ]] || args+=(--sign "$HANDOFF_SIGN")
  ! is_true "${HANDOFF_DRY_RUN:-false}" || args+=(--dry-run)
}

run() {
  local handoff="$HANDOFF_VENV/bin/handoff" workdir rc=0
  workdir=$(mktemp -d "${RUNNER_TEMP:-/tmp}/handoff.XXXXXX")
  mask_token
  case "${HANDOFF_COMMAND:-propose}" in
    propose)
      propose_args
      "$handoff" "${args[@]}" >"$workdir/result.json" || rc=$?
      "$handoff" ci github --result "$workdir/result.json" --fail-on "${HANDOFF_FAIL_ON:-error}" || true
      ;;
    validate)
      "$handoff" validate "$HANDOFF_PATH" --fail-on "${HANDOFF_FAIL_ON:-error}" --output json \
        --output-file "$workdir/report.json" || rc=$?
      "$handoff" ci github --report "$workdir/report.json" --fail-on "${HANDOFF_FAIL_ON:-error}" || true
      ;;
    *)
      echo "::error title=handoff::unknown command (choose propose or validate)"
      return 2
      ;;
  esac
  return "$rc"
}

case "${1:-}" in
  prepare) prepare ;;
  install) install ;;
  run) run ;;
  *) echo "usage: run.sh prepare|install|run" >&2; exit 2 ;;
esac
