#!/usr/bin/env bash
# The composite action's steps. Inputs arrive only as HANDOFF_* environment variables (mapped in
# action.yml), are always quoted, and reach handoff as separate argv entries: never evaluated.
#
# Portable to the three runner families: bash 3.2 (macOS /bin/bash: no ${x,,}, no mapfile), no GNU-only
# flags (base64 -w0, sha256sum), venv scripts in bin/ or Scripts/ (Windows).
set -euo pipefail

action_root() {
  # actions/handoff/ sits two levels below the repository root the action was checked out from.
  (cd "$GITHUB_ACTION_PATH/../.." && pwd)
}

python_cmd() {
  # setup-python's interpreter; python3 when run outside the action (the tests' runner has no setup-python).
  if [[ -n "${HANDOFF_PYTHON:-}" ]]; then printf '%s' "$HANDOFF_PYTHON"; else command -v python3; fi
}

check_platform() {
  case "${RUNNER_OS:-Linux}" in
    Linux | macOS | Windows) ;;
    *)
      echo "::error title=handoff::unsupported runner OS '${RUNNER_OS}': this action runs on Linux, macOS and Windows runners"
      exit 2
      ;;
  esac
  if ! "$(python_cmd)" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "::error title=handoff::handoff needs Python 3.11 or newer; $("$(python_cmd)" --version 2>&1) found"
    exit 2
  fi
}

venv_bin() {
  # A Windows venv keeps its executables in Scripts/, everything else in bin/.
  if [[ "${RUNNER_OS:-Linux}" == Windows ]]; then printf '%s/Scripts' "$HANDOFF_VENV"; else printf '%s/bin' "$HANDOFF_VENV"; fi
}

digest() {
  # sha256 of stdin, first 16 hex digits (no sha256sum on macOS, no shasum on Windows: python is on all).
  "$(python_cmd)" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])'
}

tree_digest() {
  # The content of pyproject.toml and handoff/ (tags move: key the cache on the content, not the ref).
  "$(python_cmd)" - "$1" <<'PY'
import hashlib, pathlib, sys
root = pathlib.Path(sys.argv[1])
files = [root / "pyproject.toml", *sorted(p for p in (root / "handoff").rglob("*") if p.is_file())]
h = hashlib.sha256()
for f in files:
    if "__pycache__" not in f.parts:
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
print(h.hexdigest()[:16])
PY
}

distribution_name() {
  # The PyPI name lives in pyproject.toml only, so a rename needs no change here.
  "$(python_cmd)" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["name"])' \
    "$1/pyproject.toml"
}

prepare() {
  check_platform
  local requirement source_id python_version key venv_root root
  root=$(action_root)
  # forge: PyGithub/python-gitlab; schemas: the offline schema engine validate needs (without it propose
  # fails with "no schema engine"). pip only warns about an extra a newer pyproject no longer declares.
  local extras="[forge,schemas]"
  if [[ -n "${HANDOFF_PIP_SPEC:-}" ]]; then
    requirement=$HANDOFF_PIP_SPEC
    source_id=$HANDOFF_PIP_SPEC
  elif [[ -n "${HANDOFF_VERSION:-}" ]]; then
    requirement="$(distribution_name "$root")${extras}==${HANDOFF_VERSION#v}"
    source_id=$requirement
  else
    # The CLI that matches the action ref is the one in the action's own checkout.
    requirement="${root}${extras}"
    source_id=$(tree_digest "$root")
  fi
  # The venv links to this interpreter: key it on the full version and its path, so a cached venv is
  # never restored after setup-python moved to a new patch release (its links would dangle).
  python_version=$("$(python_cmd)" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')-$(python_cmd | digest)
  key="handoff-venv-${RUNNER_OS:-Linux}-${RUNNER_ARCH:-X64}-py${python_version}-$(printf '%s' "$source_id" | digest)"
  venv_root=${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}
  {
    printf 'venv=%s\n' "$venv_root/handoff/$key"
    printf 'cache-key=%s\n' "$key"
    printf 'requirement<<HANDOFF_EOF_%s\n%s\nHANDOFF_EOF_%s\n' "$key" "$requirement" "$key"
  } >>"$GITHUB_OUTPUT"
}

install() {
  "$(python_cmd)" -m venv "$HANDOFF_VENV"
  local bin
  bin=$(venv_bin)
  "$bin/python" -m pip install --quiet --disable-pip-version-check "$HANDOFF_PIP_REQUIREMENT"
  "$bin/handoff" --version
}

is_true() {
  case "${1:-}" in [Tt][Rr][Uu][Ee]) return 0 ;; *) return 1 ;; esac
}

basic_auth() {
  printf '%s:%s' "$1" "$2" | base64 | tr -d '\r\n'
}

mask_token() {
  [[ -n "${HANDOFF_TOKEN:-}" ]] || return 0
  echo "::add-mask::$HANDOFF_TOKEN"
  # Derived forms a library might print: the basic-auth header value git and forges use.
  echo "::add-mask::$(basic_auth x-access-token "$HANDOFF_TOKEN")"
  echo "::add-mask::$(basic_auth oauth2 "$HANDOFF_TOKEN")"
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
  # Only the variable's name goes into argv. The token input's default, the job's github.token, is a
  # GitHub credential: it goes in as GITHUB_TOKEN (unless the job set that itself), which handoff sends
  # to a GitHub forge only, never to a GitLab or plain git remote. A token given explicitly is used as is.
  if [[ -n "${HANDOFF_TOKEN:-}" && "$HANDOFF_TOKEN" == "${HANDOFF_JOB_TOKEN:-}" ]]; then
    export GITHUB_TOKEN="${GITHUB_TOKEN:-$HANDOFF_TOKEN}"
  elif [[ -n "${HANDOFF_TOKEN:-}" ]]; then
    args+=(--token-env HANDOFF_TOKEN)
  fi
  [[ -z "${HANDOFF_GIT_USERNAME:-}" ]] || args+=(--git-username "$HANDOFF_GIT_USERNAME")
  ! is_true "${HANDOFF_DRAFT:-false}" || args+=(--draft)
  ! is_true "${HANDOFF_AUTO_MERGE:-false}" || args+=(--auto-merge)
  [[ -z "${HANDOFF_SIGN:-}" ]] || [[ "$HANDOFF_SIGN" == [Ff][Aa][Ll][Ss][Ee] ]] || args+=(--sign "$HANDOFF_SIGN")
  ! is_true "${HANDOFF_DRY_RUN:-false}" || args+=(--dry-run)
}

validate_args() {
  # The PR check's form: in a config repo (a .handoff.yaml at PATH) `handoff validate` with no path
  # validates every environment's render with its params; elsewhere PATH's plain manifests.
  if [[ -f "$HANDOFF_PATH/.handoff.yaml" ]]; then
    args=(validate --config-repo "$HANDOFF_PATH")
  else
    args=(validate "$HANDOFF_PATH")
  fi
  args+=(--fail-on "${HANDOFF_FAIL_ON:-error}")
}

run() {
  local handoff workdir rc=0
  handoff="$(venv_bin)/handoff"
  workdir=$(mktemp -d "${RUNNER_TEMP:-/tmp}/handoff.XXXXXX")
  mask_token
  case "${HANDOFF_COMMAND:-propose}" in
    propose)
      propose_args
      # `handoff ci github` writes the step outputs, once, under the action's names: not propose itself.
      GITHUB_OUTPUT="" "$handoff" "${args[@]}" >"$workdir/result.json" || rc=$?
      "$handoff" ci github --result "$workdir/result.json" --fail-on "${HANDOFF_FAIL_ON:-error}" || true
      ;;
    validate)
      validate_args
      # stderr through a file, not a tee process substitution: that would race the read below
      "$handoff" "${args[@]}" --output json --output-file "$workdir/report.json" 2>"$workdir/stderr" || rc=$?
      cat "$workdir/stderr" >&2
      if [[ -f "$workdir/report.json" ]]; then
        "$handoff" ci github --report "$workdir/report.json" --fail-on "${HANDOFF_FAIL_ON:-error}" || true
      else
        # No report: the cause is handoff's own error line; put it in the annotation and the summary.
        local cause
        cause=$(tr -d '\r' <"$workdir/stderr" | grep -v '^$' | tail -n 1 || true)
        echo "::error title=handoff::${cause//%/%25}"
        printf '## handoff\n\n`handoff validate` failed (exit %s):\n\n```\n%s\n```\n' "$rc" "$cause" \
          >>"${GITHUB_STEP_SUMMARY:-/dev/null}"
      fi
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
