#!/usr/bin/env bash
# Build the Dockerfile for real without a Docker engine: buildah (vfs storage, chroot isolation), then
# run `handoff --version`, `handoff reconcile --help`, validate, git and ssh inside the image and, when
# HANDOFF_IMAGE_PUSH names a registry (host:port, plain http), push it there.
#
# Base image: BASE_IMAGE (e.g. python:3.11-slim) when a registry serving it is reachable; otherwise a
# Debian bookworm rootfs made with debootstrap from Debian's mirror and imported as a local image.
# Tools: the kustomize/helm/kubeconform binaries that tools/install.sh built (`make tools`), else the
# Dockerfile's Go builder stage (needs GO_IMAGE).
#
# Env: HANDOFF_IMAGE_TAG (default localhost/handoff:<version>), HANDOFF_IMAGE_PUSH (registry host:port),
#      HANDOFF_IMAGE_CACHE (default ~/.cache/handoff-image), DEBIAN_MIRROR.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool not found (apt-get install buildah debootstrap)" >&2; exit 2; }
done

version=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
tag=${HANDOFF_IMAGE_TAG:-localhost/handoff:$version}
cache=${HANDOFF_IMAGE_CACHE:-$HOME/.cache/handoff-image}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$cache"
# One build per cache at a time: parallel test runs (several worktrees share ~/.cache) would otherwise
# debootstrap into, or delete, each other's rootfs.
exec 9>"$cache/.lock"
flock 9
# Private storage: vfs needs no kernel overlay support and leaves other buildah users alone.
bh=(buildah --root "$cache/storage" --runroot "$cache/run" --storage-driver vfs)

# debootstrap mounts /proc (and /sys, devpts) inside the target and leaves them mounted when it fails:
# unmount those before deleting, and never let rm cross into another file system.
clean_rootfs() {
  local mnt
  while read -r mnt; do
    umount -l "$mnt" 2>/dev/null || true
  done < <(findmnt -rn -o TARGET | grep -F "$1/" | sort -r)
  rm -rf --one-file-system "$1"
}

base=${BASE_IMAGE:-}
build_ca=${CA_BUNDLE:-}
if [[ -z "$base" ]]; then
  base=localhost/handoff-base:bookworm-slim
  if ! "${bh[@]}" inspect --type image "$base" >/dev/null 2>&1; then
    rootfs="$cache/rootfs-bookworm"
    if [[ ! -f "$rootfs/.complete" ]]; then
      clean_rootfs "$rootfs"
      echo "build-image: debootstrap bookworm -> $rootfs"
      if ! debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" "$mirror" \
          >"$cache/debootstrap.log" 2>&1; then
        echo "build-image: debootstrap failed:" >&2
        tail -n 30 "$cache/debootstrap.log" "$rootfs/debootstrap/debootstrap.log" >&2 2>/dev/null || true
        clean_rootfs "$rootfs"
        exit 1
      fi
      rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
      touch "$rootfs/.complete"
    fi
    # Slim, as Debian's own slim images: no manuals, docs or translations, now or from packages the
    # Dockerfile installs later (git, openssh-client).
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
      'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' \
      >"$rootfs/etc/dpkg/dpkg.cfg.d/handoff-slim"
    rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
    find "$rootfs/usr/share/doc" -type f ! -name copyright -delete
    # Trust the same extra CAs as this machine (a TLS-inspecting egress proxy), for pip in the build.
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
      cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
      chroot "$rootfs" update-ca-certificates >/dev/null
      build_ca=/etc/ssl/certs/ca-certificates.crt
    fi
    tar -C "$rootfs" --exclude=./dev/* --exclude=./proc/* --exclude=./sys/* --exclude=./.complete -cf "$cache/rootfs.tar" .
    ctr=$("${bh[@]}" from scratch)
    "${bh[@]}" add "$ctr" "$cache/rootfs.tar" /
    "${bh[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd /bin/sh "$ctr"
    "${bh[@]}" commit --quiet "$ctr" "$base" >/dev/null
    printf '%s' "${build_ca:-}" >"$cache/base-ca"
    "${bh[@]}" rm "$ctr" >/dev/null
    rm -f "$cache/rootfs.tar"
  fi
fi

build_args=(--build-arg "BASE_IMAGE=$base" --build-arg "VERSION=$version")
if [[ -z "$build_ca" && "$base" == localhost/handoff-base:* && -s "$cache/base-ca" ]]; then build_ca=$(cat "$cache/base-ca"); fi
[[ -z "$build_ca" ]] || build_args+=(--build-arg "CA_BUNDLE=$build_ca")
staged=build/image-tools
rm -rf "$staged" && mkdir -p "$staged"
have_tools=1
for t in kustomize helm kubeconform; do
  if [[ -x .tools/bin/$t ]]; then cp -L ".tools/bin/$t" "$staged/$t"; else have_tools=0; fi
done
if [[ $have_tools == 1 ]]; then
  build_args+=(--build-arg TOOLS_STAGE=tools-local)
elif [[ -z "${GO_IMAGE:-}" ]]; then
  echo "build-image: kustomize/helm/kubeconform missing from .tools/bin (run make tools) and no GO_IMAGE given" >&2
  exit 2
else
  build_args+=(--build-arg "GO_IMAGE=$GO_IMAGE")
fi

# vfs storage copies every layer and container in full: working containers left by killed runs, and
# untagged images of earlier builds, fill the disk within a day of test runs unless removed.
"${bh[@]}" rm --all >/dev/null 2>&1 || true
echo "build-image: building $tag from $base"
build_log="$cache/build.log"
"${bh[@]}" build --isolation chroot --layers -f Dockerfile "${build_args[@]}" -t "$tag" . 2>&1 | tee "$build_log"
# Keep this build's layer cache (every "--> <id>" it printed) and tagged images; drop the rest.
mapfile -t current < <(sed -n 's/^--> \([0-9a-f]\{10,\}\)$/\1/p' "$build_log")
while read -r id name; do
  [[ "$name" == "<none>" ]] || continue
  keep=0
  for c in "${current[@]}"; do [[ "$id" == "$c"* || "$c" == "$id"* ]] && keep=1 && break; done
  [[ $keep == 1 ]] || "${bh[@]}" rmi "$id" >/dev/null 2>&1 || true
done < <("${bh[@]}" images --all --format '{{.ID}} {{.Name}}')

ctr=$("${bh[@]}" from "$tag")
trap '"${bh[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
run=("${bh[@]}" run --isolation chroot "$ctr" --)
"${run[@]}" handoff --version
"${run[@]}" handoff reconcile --help >/dev/null
echo "build-image: handoff reconcile --help ok"
# Schema validation inside the image (built-in policies off: see the note in docs/ci.md).
"${run[@]}" sh -c 'cd /tmp && printf "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n" > cm.yaml && handoff validate --no-builtin cm.yaml' \
  && echo "build-image: validate ok"
# shellcheck disable=SC2016  # expanded by the shell inside the image
"${run[@]}" sh -ec 'echo "build-image: runs as uid $(id -u)"
  for t in kustomize helm kubeconform; do command -v "$t"; "$t" version >/dev/null 2>&1 || "$t" -v >/dev/null; done
  git --version && ssh -V && test -s /etc/ssl/certs/ca-certificates.crt && echo "build-image: git, ssh and CA certificates ok"
  if command -v gcc || command -v go || /opt/handoff/bin/python -m pip --version 2>/dev/null; then
    echo "build-image: build tools left in the final image" >&2; exit 1
  fi'
"${bh[@]}" inspect --type image --format '{{.OCIv1.Config.User}} {{.OCIv1.Config.Entrypoint}}' "$tag"; echo
echo "build-image: size $("${bh[@]}" images --format '{{.Size}}' "$tag")"

if [[ -n "${HANDOFF_IMAGE_PUSH:-}" ]]; then
  dest="docker://$HANDOFF_IMAGE_PUSH/handoff:$version"
  "${bh[@]}" push --tls-verify=false --quiet "$tag" "$dest"
  echo "build-image: pushed $dest"
fi
