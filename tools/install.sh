#!/usr/bin/env bash
# `make tools`: build or install the pinned real tools the tests use, cache them per user, link them into .tools/bin.
# Idempotent: a tool whose cached binary exists is only re-linked, so a warm run takes about a second.
set -euo pipefail

tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(dirname "$tools_dir")"
# shellcheck source=tools/versions.env
source "$tools_dir/versions.env"

cache_dir="${HANDOFF_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/handoff-tools}"
bin_dir="$repo_dir/.tools/bin"
log_dir="$cache_dir/logs"
mkdir -p "$bin_dir" "$log_dir"
# `make` puts .tools/bin first on PATH: look tools up without it, or a link would point at itself.
PATH="$(tr ':' '\n' <<<"$PATH" | grep -vxF "$bin_dir" | paste -sd:)"

# Every pinned version builds with the machine's Go; never let a go.mod toolchain line fetch another one.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
# -dwarf=false: the compiler skips the debug info that `-ldflags=-s -w` would strip from the binary anyway (about a
# fifth less compile CPU; the binaries are byte-identical).
export GOFLAGS="-trimpath -buildvcs=false -gcflags=all=-dwarf=false"
export CGO_ENABLED=0

# Two concurrent `make tools` (e.g. two checkouts) must not build the same binary at once.
exec 9>"$cache_dir/.lock"
flock 9

say() { printf '%-15s %s\n' "$1" "$2"; }

# HANDOFF_TOOLS_ONLY="helm yq" limits a run to some tools (the rest are neither built nor re-linked).
wanted() { [[ -z "${HANDOFF_TOOLS_ONLY:-}" || " $HANDOFF_TOOLS_ONLY " == *" $1 "* ]]; }

need_go() {
  command -v go >/dev/null || { echo "make tools: Go >= 1.26 is needed to build $1 (not found on PATH)" >&2; exit 1; }
}

# cached NAME VERSION: path of the cached binary.
cached() { echo "$cache_dir/$1-$2/$1"; }

link() { ln -sfn "$1" "$bin_dir/$2"; }

# run_logged LABEL CMD...: run a build, keeping its output in the cache's log dir and showing the tail on failure.
run_logged() {
  local label="$1" log="$log_dir/${1// /+}.log"
  shift
  if ! "$@" >"$log" 2>&1; then
    echo "make tools: building $label failed: $*" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
}

# The Go tools are listed once (the build_* functions below) and walked twice: first with prefetching=1, which only
# starts a background `go ... -n` for each missing tool (it resolves and downloads exactly the modules the build will
# need and compiles nothing), so every download runs at once while the first builds compile; then for real.
prefetching=0
prefetch_pids=()
prefetch() {
  local name="$1"
  shift
  need_go "$name"
  # -n prints every command it would run: keep only the go command's own lines (downloads, errors).
  { "$@" 2>&1 >/dev/null | grep '^go: ' >"$log_dir/prefetch-$name.log"; } &
  prefetch_pids+=("$!")
}

# store BUILT OUT: move a fresh binary into its cache slot (rename last, so a cached binary is always whole).
store() { mkdir -p "$(dirname "$2")" && mv "$1" "$2.tmp" && mv "$2.tmp" "$2"; }

# go_install NAME VERSION PACKAGE [LDFLAGS]: `go install PACKAGE@VERSION` into the cache (modules without replace lines).
go_install() {
  local name="$1" version="$2" package="$3" out
  wanted "$name" || return 0
  out="$(cached "$name" "$version")"
  if ((prefetching)); then
    [[ -x "$out" ]] || prefetch "$name" go install -n "$package@$version"
    return 0
  fi
  if [[ ! -x "$out" ]]; then
    need_go "$name"
    local start=$SECONDS tmp
    tmp="$(mktemp -d "$cache_dir/.build-$name.XXXXXX")"
    run_logged "$name" env GOBIN="$tmp" go install -ldflags="-s -w ${4:-}" "$package@$version"
    store "$tmp/$(ls "$tmp")" "$out" && rmdir "$tmp"
    say "$name" "$version built in $((SECONDS - start))s"
  else
    say "$name" "$version cached"
  fi
  link "$out" "$name"
}

# go_build VERSION MODULE_DIR LDFLAGS NAME=PACKAGE...: build packages inside one of our tools/<dir> modules, for
# modules whose own go.mod has replace lines (k8s.io/kubernetes, etcd server) and so refuse `go install pkg@version`.
# Every missing package is built by ONE `go build`, so packages they share compile once and the links run in parallel.
go_build() {
  local version="$1" module_dir="$2" ldflags="$3" pair name names=() packages=()
  shift 3
  if ! grep -q " $version\$" "$module_dir/go.mod"; then
    echo "make tools: $module_dir/go.mod does not pin $version (see tools/versions.env)" >&2
    exit 1
  fi
  for pair in "$@"; do
    name="${pair%%=*}"
    wanted "$name" || continue
    if [[ -x "$(cached "$name" "$version")" ]]; then
      ((prefetching)) || { say "$name" "$version cached"; link "$(cached "$name" "$version")" "$name"; }
    else
      names+=("$name")
      packages+=("${pair#*=}")
    fi
  done
  ((${#names[@]})) || return 0
  if ((prefetching)); then
    prefetch "${names[0]}" go build -C "$module_dir" -n "${packages[@]}"
    return 0
  fi
  need_go "${names[0]}"
  local start=$SECONDS tmp out_arg i
  tmp="$(mktemp -d "$cache_dir/.build-${names[0]}.XXXXXX")"
  # One package: -o names the binary (etcd's package path ends in /v3); several: -o DIR/ names each by its command.
  if ((${#names[@]} == 1)); then out_arg="$tmp/${names[0]}"; else out_arg="$tmp/"; fi
  run_logged "${names[*]}" go build -C "$module_dir" -o "$out_arg" -ldflags="-s -w $ldflags" "${packages[@]}"
  for i in "${!names[@]}"; do
    store "$tmp/${names[i]}" "$(cached "${names[i]}" "$version")"
    link "$(cached "${names[i]}" "$version")" "${names[i]}"
  done
  rmdir "$tmp"
  say "${names[*]}" "$version built in $((SECONDS - start))s"
}

# Debian packages: docker-registry (the CNCF distribution registry), skopeo, umoci, git, buildah + debootstrap
# (the container image is built and run without a Docker engine), and dockerd (docker.io: the digest
# resolution through a Docker engine is tested against a real one). Installed only when missing.
apt_tools() {
  local -A package_of=([docker-registry]=docker-registry [skopeo]=skopeo [umoci]=umoci [git]=git
                      [buildah]=buildah [debootstrap]=debootstrap [dockerd]=docker.io)
  local missing=() tool
  for tool in "${!package_of[@]}"; do
    wanted "$tool" || continue
    command -v "$tool" >/dev/null || missing+=("${package_of[$tool]}")
  done
  if ((${#missing[@]})); then
    local sudo=()
    if [[ "$(id -u)" != 0 ]]; then
      command -v sudo >/dev/null || { echo "make tools: install as root: apt-get install ${missing[*]}" >&2; exit 1; }
      sudo=(sudo -n)
    fi
    say apt "installing ${missing[*]}"
    run_logged apt-update "${sudo[@]}" apt-get update -qq
    run_logged apt-install "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  for tool in "${!package_of[@]}"; do
    wanted "$tool" || continue
    link "$(command -v "$tool")" "$tool"
    say "$tool" "$(dpkg-query -W -f='${Version}' "${package_of[$tool]}" 2>/dev/null || echo system) (system)"
  done
}

apt_tools

k8s_minor="${KUBERNETES_VERSION#v1.}"
k8s_minor="${k8s_minor%%.*}"
k8s_version_ldflags="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION \
-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$k8s_minor \
-X k8s.io/component-base/version.gitTreeState=clean"

# The tools are built in two lanes at once: on 2 cores one lane's link (mostly one thread) or module loading leaves a
# core idle that the other lane's compiles fill. The lanes are balanced to take about as long as each other.
build_cluster_tools() {
  go_build "$ETCD_VERSION" "$tools_dir/etcd" "-X go.etcd.io/etcd/api/v3/version.GitSHA=release" \
    etcd=go.etcd.io/etcd/server/v3
  go_build "$KUBERNETES_VERSION" "$tools_dir/kube-apiserver" "$k8s_version_ldflags" \
    kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
    kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
    kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler
  go_install kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok "-X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}"
}

build_other_tools() {
  go_install helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
    "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  go_install conftest "$CONFTEST_VERSION" github.com/open-policy-agent/conftest \
    "-X github.com/open-policy-agent/conftest/internal/version.Version=${CONFTEST_VERSION#v}"
  go_install yq "$YQ_VERSION" github.com/mikefarah/yq/v4
  go_install kustomize "$KUSTOMIZE_VERSION" sigs.k8s.io/kustomize/kustomize/v5
  go_install kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform \
    "-X main.version=$KUBECONFORM_VERSION"
  # GitHub's OpenAPI description (npm @octokit/openapi), which the GitHub contract tests check requests against.
  if wanted octokit-openapi && ((!prefetching)); then
    say octokit-openapi "$(bash "$tools_dir/fetch-octokit-openapi.sh")"
  fi
}

prefetching=1
build_cluster_tools
build_other_tools
prefetching=0
build_cluster_tools &
cluster_lane=$!
build_other_tools &
other_lane=$!
failed=0
wait "$cluster_lane" || failed=1
wait "$other_lane" || failed=1
# A prefetch that failed is harmless (the build itself fetched what it needed, or reported why it could not).
((${#prefetch_pids[@]} == 0)) || wait "${prefetch_pids[@]}" || true
((failed == 0)) || exit 1

echo "make tools: all tools linked in ${bin_dir#"$repo_dir/"}"
