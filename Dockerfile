# syntax=docker/dockerfile:1
# One image for CI jobs (GitLab component, Jenkins agent) and for the in-cluster reconciler.
#   docker build -t handoff:0.1.0 .
# tools/build-image.sh builds it without a Docker engine (buildah, vfs, chroot), from a local base.
ARG BASE_IMAGE=python:3.11-slim
ARG GO_IMAGE=golang:1.26-bookworm
# tools-go builds the pinned tools from the Go module proxy; tools-local takes the ones tools/install.sh
# already built (tools/build-image.sh stages them into build/image-tools/).
ARG TOOLS_STAGE=tools-go

FROM ${GO_IMAGE} AS tools-go
# Keep in step with tools/versions.env.
ARG HELM_VERSION=v3.22.0
ARG KUSTOMIZE_VERSION=v5.8.2
ARG KUBECONFORM_VERSION=v0.8.0
ENV CGO_ENABLED=0 GOBIN=/out GOFLAGS=-trimpath
RUN go install -ldflags "-s -w" "github.com/yannh/kubeconform/cmd/kubeconform@${KUBECONFORM_VERSION}" \
 && go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION} -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
      "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" \
 && go install -ldflags "-s -w" "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}"

FROM ${BASE_IMAGE} AS tools-local
COPY build/image-tools/ /out/

FROM ${TOOLS_STAGE} AS tools

FROM ${BASE_IMAGE} AS build
# A CA bundle inside the base image for pip, where PyPI is reached through a TLS-inspecting proxy.
ARG CA_BUNDLE=""
RUN python3 -m venv /opt/handoff
COPY pyproject.toml requirements.lock README* /src/
COPY handoff /src/handoff
# handoff/policy/builtin_pack links to ../../policies
COPY policies /src/policies
# The lock pins every dependency. The defaults cover CI jobs (schemas, GitHub/GitLab); `all` adds the
# reconciler's metrics and Rego.
RUN /opt/handoff/bin/python -m pip install --no-cache-dir --disable-pip-version-check ${CA_BUNDLE:+--cert "$CA_BUNDLE"} \
      -c /src/requirements.lock "/src[all]" \
 && /opt/handoff/bin/python -m pip uninstall -y --disable-pip-version-check pip setuptools wheel \
 && find /opt/handoff -name '__pycache__' -prune -exec rm -rf {} +

FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="handoff" \
      org.opencontainers.image.description="GitOps handoff: bump, validate, propose, promote, reconcile" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
# Both jobs clone and push: git, ssh for git@host remotes, CA certificates for https remotes, forges and
# registries. --no-install-recommends keeps out less, patch and the rest of git's suggestions.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old /var/log/apt /var/log/dpkg.log \
 && git --version && ssh -V
RUN groupadd --gid 10001 handoff \
 && useradd --uid 10001 --gid handoff --home-dir /home/handoff --create-home --shell /bin/sh handoff
COPY --from=build /opt/handoff /opt/handoff
COPY --from=tools /out/kustomize /out/helm /out/kubeconform /usr/local/bin/
ENV PATH=/opt/handoff/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/home/handoff
USER 10001:10001
WORKDIR /home/handoff
ENTRYPOINT ["handoff"]
CMD ["--help"]
