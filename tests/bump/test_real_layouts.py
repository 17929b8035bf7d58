"""Bump on the layouts of real config repos, one case per layout. Every input is written fresh here in
the shape of a public file (named in the comment above each case: repo and path; the full list of the
files studied is tests/bump/studied_layouts.tsv). Each case bumps through ``handoff.edit.bump`` with a
``.handoff.yaml`` of its own and asserts the exact bytes of every file after it, or the exact refusal
with nothing written; each case is also bumped again with the same image, which must change nothing."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from handoff.edit.bump import bump, plan_bump
from handoff.errors import HandoffError
from tests.bump.helpers import make_repo, snapshot

STUDIED = Path(__file__).with_name("studied_layouts.tsv")
DIGEST = "sha256:" + "d" * 64
OLD_DIGEST = "sha256:" + "a" * 64


@dataclass(frozen=True)
class Case:
    layout: str  # a layout of tests/bump/studied_layouts.tsv
    image: str  # the app's declared image (repository)
    targets: str  # the YAML list items under apps.web.targets
    files: dict[str, str]
    bump_to: str
    edits: dict[str, tuple[str, str]] = field(default_factory=dict)  # file -> (old text, new text)
    refusal: str = ""


CASES = [
    # fluxcd/flux2-kustomize-helm-example apps/base/podinfo/release.yaml: HelmRelease values holding a
    # second image's repository/tag block (`redis:`), tag unquoted
    Case("flux-helmrelease-values", "public.ecr.aws/docker/library/redis",
         "{type: helm, path: release.yaml, repository: spec.values.redis.repository, tag: spec.values.redis.tag}",
         {"release.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: shop\n"
                          "  namespace: shop\nspec:\n  interval: 30m\n  # chart defaults live upstream\n"
                          "  values:\n    redis:\n      enabled: true\n"
                          "      repository: public.ecr.aws/docker/library/redis\n      tag: 8.4.0\n"},
         "public.ecr.aws/docker/library/redis:8.4.1",
         {"release.yaml": ("tag: 8.4.0", "tag: 8.4.1")}),
    # same file: a tag-only target pointed at the redis block for another app is another image's tag
    Case("flux-helmrelease-values", "ghcr.io/acme/shop",
         "{type: helm, path: release.yaml, tag: spec.values.redis.tag}",
         {"release.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: shop}\n"
                          "spec:\n  values:\n    redis:\n      repository: public.ecr.aws/docker/library/redis\n"
                          "      tag: 8.4.0\n"},
         "ghcr.io/acme/shop:2.0.0",
         refusal="release.yaml:7: at spec.values.redis.repository: the tag spec.values.redis.tag belongs to "
                 "public.ecr.aws/docker/library/redis (spec.values.redis.repository), not ghcr.io/acme/shop; "
                 "name `repository:` in the target to repoint it"),
    # fluxcd/flux2-kustomize-helm-example apps/staging/podinfo-values.yaml: the overlay's HelmRelease patch
    # sets only the tag (the repository is in the chart's defaults: tag-only target)
    Case("flux-helmrelease-overlay-patch", "ghcr.io/acme/shop",
         "{type: helm, path: apps/staging/shop-values.yaml, tag: spec.values.image.tag}",
         {"apps/staging/shop-values.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
                                           "metadata:\n  name: shop\n  namespace: shop\nspec:\n  chart:\n"
                                           "    spec:\n      version: \">=1.0.0\"\n  values:\n    image:\n"
                                           "      tag: 2.3.0\n    ingress:\n      hosts:\n"
                                           "        - host: shop.staging\n"},
         "ghcr.io/acme/shop:2.4.0",
         {"apps/staging/shop-values.yaml": ("tag: 2.3.0", "tag: 2.4.0")}),
    # fluxcd/helm-operator-get-started releases/dev/podinfo.yaml, written as a Namespace + HelmRelease
    # file: the values are in the second document, selected by kind/name
    Case("flux-helmrelease-values", "ghcr.io/acme/shop",
         "{type: helm, path: releases/dev/shop.yaml, document: {kind: HelmRelease, name: shop}, "
         "repository: spec.values.image.repository, tag: spec.values.image.tag}",
         {"releases/dev/shop.yaml": "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: dev\n---\n"
                                    "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n"
                                    "  name: shop\n  namespace: dev\nspec:\n  values:\n    image:\n"
                                    "      repository: ghcr.io/acme/shop\n      tag: dev-abc123\n"
                                    "    replicaCount: 1\n"},
         "ghcr.io/acme/shop:dev-def456",
         {"releases/dev/shop.yaml": ("tag: dev-abc123", "tag: dev-def456")}),
    # stefanprodan/podinfo charts/podinfo/values.yaml and argoproj/argocd-example-apps
    # helm-guestbook/values.yaml: `image: {repository, tag, pullPolicy}` with an unquoted tag
    Case("helm-repository-tag", "ghcr.io/acme/shop",
         "{type: helm, path: charts/shop/values.yaml, repository: image.repository, tag: image.tag}",
         {"charts/shop/values.yaml": "# Default values for shop.\n\nreplicaCount: 1\nlogLevel: info\n"
                                     "host: #0.0.0.0\n\nimage:\n  repository: ghcr.io/acme/shop\n  tag: 6.9.1\n"
                                     "  pullPolicy: IfNotPresent\n\nui:\n  color: \"#34577c\"\n"},
         "ghcr.io/acme/shop:6.10.0",
         {"charts/shop/values.yaml": ("tag: 6.9.1", "tag: 6.10.0")}),
    # same layout: a tag that reads as a number under YAML 1.1 must be quoted
    Case("helm-repository-tag", "nginx",
         "{type: helm, path: values.yaml, repository: image.repository, tag: image.tag}",
         {"values.yaml": "image:\n  repository: nginx\n  tag: 1.21.0\n  pullPolicy: IfNotPresent\n"},
         "nginx:1.27",
         {"values.yaml": ("tag: 1.21.0", "tag: \"1.27\"")}),
    # kubernetes/ingress-nginx charts/ingress-nginx/values.yaml: quoted tag plus a digest key; a new tag
    # without a digest clears the old digest (it would still pin the old image)
    Case("helm-repository-tag-digest", "registry.k8s.io/ingress-nginx/controller",
         "{type: helm, path: values.yaml, repository: controller.image.repository, "
         "tag: controller.image.tag, digest: controller.image.digest}",
         {"values.yaml": f"controller:\n  name: controller\n  image:\n"
                         f"    repository: registry.k8s.io/ingress-nginx/controller\n    tag: \"v1.9.4\"\n"
                         f"    digest: {OLD_DIGEST}\n    pullPolicy: IfNotPresent\n    # www-data -> uid 101\n"
                         f"    runAsUser: 101\n"},
         "registry.k8s.io/ingress-nginx/controller:v1.9.5",
         {"values.yaml": (f"tag: \"v1.9.4\"\n    digest: {OLD_DIGEST}", "tag: \"v1.9.5\"\n    digest: \"\"")}),
    # bitnami/charts bitnami/redis/values.yaml: registry / repository / tag / digest: "" split
    Case("helm-registry-repository-tag-digest", "docker.io/bitnami/redis",
         "{type: helm, path: values.yaml, registry: image.registry, repository: image.repository, "
         "tag: image.tag, digest: image.digest}",
         {"values.yaml": "image:\n  registry: docker.io\n  repository: bitnami/redis\n"
                         "  tag: 8.2.1-debian-12-r0\n  digest: \"\"\n  ## Specify a imagePullPolicy\n"
                         "  pullPolicy: IfNotPresent\n"},
         f"docker.io/bitnami/redis:8.2.2-debian-12-r0@{DIGEST}",
         {"values.yaml": ("tag: 8.2.1-debian-12-r0\n  digest: \"\"",
                          f"tag: 8.2.2-debian-12-r0\n  digest: \"{DIGEST}\"")}),
    # Bitnami's older style: one tag key holding tag@digest (declared `format: tag@digest`)
    Case("helm-registry-repository-tag-digest", "docker.io/bitnami/redis",
         "{type: helm, path: values.yaml, tag: image.tag, format: tag@digest}",
         {"values.yaml": f"image:\n  registry: docker.io\n  repository: bitnami/redis\n"
                         f"  tag: 7.0.0-debian-11-r0@{OLD_DIGEST}\n"},
         f"docker.io/bitnami/redis:7.0.1-debian-11-r0@{DIGEST}",
         {"values.yaml": (f"7.0.0-debian-11-r0@{OLD_DIGEST}", f"7.0.1-debian-11-r0@{DIGEST}")}),
    # prometheus-community/helm-charts charts/kube-prometheus-stack/values.yaml: registry/repository and
    # an empty tag ("" = chart appVersion) filled in place
    Case("helm-registry-repository-tag-sha", "quay.io/prometheus-operator/prometheus-operator",
         "{type: helm, path: values.yaml, registry: prometheusOperator.image.registry, "
         "repository: prometheusOperator.image.repository, tag: prometheusOperator.image.tag}",
         {"values.yaml": "prometheusOperator:\n  image:\n    registry: quay.io\n"
                         "    repository: prometheus-operator/prometheus-operator\n"
                         "    # if not set appVersion field from Chart.yaml is used\n    tag: \"\"\n"
                         "    sha: \"\"\n    pullPolicy: IfNotPresent\n"},
         "quay.io/prometheus-operator/prometheus-operator:v0.70.0",
         {"values.yaml": ("tag: \"\"", "tag: \"v0.70.0\"")}),
    # linkerd/linkerd2 charts/linkerd2/values.yaml: `name` + `version` keys with comments between
    Case("helm-name-version", "cr.l5d.io/linkerd/proxy",
         "{type: helm, path: values.yaml, repository: proxy.image.name, tag: proxy.image.version}",
         {"values.yaml": "proxy:\n  image:\n    # -- Docker image for the proxy\n    name: cr.l5d.io/linkerd/proxy\n"
                         "    # -- Pull policy\n    pullPolicy: \"\"\n    # -- Tag for the proxy\n"
                         "    version: \"\"\n  logLevel: warn,linkerd=info\n"},
         "cr.l5d.io/linkerd/proxy:stable-2.14.1",
         {"values.yaml": ("version: \"\"", "version: \"stable-2.14.1\"")}),
    # elastic/helm-charts kibana/values.yaml: top-level `image:` (repository) and `imageTag:`
    Case("helm-image-imagetag", "docker.elastic.co/kibana/kibana",
         "{type: helm, path: values.yaml, repository: image, tag: imageTag}",
         {"values.yaml": "replicas: 1\n\nimage: \"docker.elastic.co/kibana/kibana\"\nimageTag: \"8.5.1\"\n"
                         "imagePullPolicy: \"IfNotPresent\"\n"},
         "docker.elastic.co/kibana/kibana:8.5.2",
         {"values.yaml": ("imageTag: \"8.5.1\"", "imageTag: \"8.5.2\"")}),
    # GoogleCloudPlatform/microservices-demo helm-chart/values.yaml: `images.repository` is a prefix
    # shared by every service and `tag: ""` is the one tag (tag-only target)
    Case("helm-shared-repository-prefix", "ghcr.io/acme/boutique/frontend",
         "{type: helm, path: values.yaml, tag: images.tag}",
         {"values.yaml": "images:\n  repository: ghcr.io/acme/boutique\n"
                         "  # Overrides the image tag whose default is the chart appVersion.\n  tag: \"\"\n"},
         "ghcr.io/acme/boutique/frontend:v0.10.1",
         {"values.yaml": ("tag: \"\"", "tag: \"v0.10.1\"")}),
    # argoproj/argo-cd manifests/base/kustomization.yaml, fluxcd/image-automation-controller
    # config/manager/kustomization.yaml: an entry whose newName equals its name
    Case("kustomize-newname-newtag", "quay.io/acme/shop",
         "{type: kustomize, path: kustomization.yaml, name: quay.io/acme/shop}",
         {"kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\n\n"
                                "images:\n- name: quay.io/acme/shop\n  newName: quay.io/acme/shop\n"
                                "  newTag: latest\nresources:\n- ./server\n"},
         "quay.io/acme/shop:v2.9.3",
         {"kustomization.yaml": ("newTag: latest", "newTag: v2.9.3")}),
    # kubeflow/katib .../katib-standalone/kustomization.yaml, stefanprodan/gitops-istio
    # apps/backend/kustomization.yaml: indented list, several entries, comments among resources
    Case("kustomize-newname-newtag-indented", "docker.io/acme/ui",
         "{type: kustomize, path: kustomization.yaml, name: docker.io/acme/ui}",
         {"kustomization.yaml": "namespace: shop\nresources:\n  # UI.\n  - ../../components/ui/\nimages:\n"
                                "  - name: docker.io/acme/api\n    newName: docker.io/acme/api\n"
                                "    newTag: latest\n  - name: docker.io/acme/ui\n"
                                "    newName: docker.io/acme/ui\n    newTag: latest\n"},
         "docker.io/acme/ui:v0.16.0",
         {"kustomization.yaml": ("ui\n    newTag: latest", "ui\n    newTag: v0.16.0")}),
    # kubernetes-sigs/metrics-server manifests/components/release/kustomization.yaml: a Component whose
    # entry renames a staging registry's image to the release registry
    Case("kustomize-component-images", "registry.k8s.io/metrics-server/metrics-server",
         "{type: kustomize, path: components/release/kustomization.yaml, "
         "name: gcr.io/k8s-staging-metrics-server/metrics-server}",
         {"components/release/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\n"
                                                   "kind: Component\nimages:\n"
                                                   "- name: gcr.io/k8s-staging-metrics-server/metrics-server\n"
                                                   "  newName: registry.k8s.io/metrics-server/metrics-server\n"
                                                   "  newTag: v0.6.0\n"},
         "registry.k8s.io/metrics-server/metrics-server:v0.6.4",
         {"components/release/kustomization.yaml": ("newTag: v0.6.0", "newTag: v0.6.4")}),
    # argoproj/argo-rollouts docs/features/kustomize/example/kustomization.yaml: `images:` last, newTag only
    Case("kustomize-newtag-only", "argoproj/rollouts-demo",
         "{type: kustomize, path: kustomization.yaml, name: argoproj/rollouts-demo}",
         {"kustomization.yaml": "namePrefix: my-\nresources:\n- rollouts-demo.yaml\ncommonLabels:\n  foo: bar\n"
                                "images:\n- name: argoproj/rollouts-demo\n  newTag: green\n"},
         "argoproj/rollouts-demo:blue",
         {"kustomization.yaml": ("newTag: green", "newTag: blue")}),
    # stefanprodan/podinfo kustomize/kustomization.yaml, argoproj/argocd-example-apps
    # kustomize-guestbook/kustomization.yaml: no `images:` yet: one is added in the file's own style
    Case("kustomize-resources-only", "ghcr.io/acme/shop",
         "{type: kustomize, path: kustomization.yaml, name: ghcr.io/acme/shop}",
         {"kustomization.yaml": "namePrefix: kustomize-\nresources:\n- deployment.yaml\n- service.yaml\n"
                                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"},
         "ghcr.io/acme/shop:1.4.2",
         {"kustomization.yaml": ("kind: Kustomization\n", "kind: Kustomization\nimages:\n"
                                 "- name: ghcr.io/acme/shop\n  newTag: 1.4.2\n")}),
    # stefanprodan/podinfo kustomize/deployment.yaml, stefanprodan/gitops-istio apps/backend/deployment.yaml
    Case("deployment", "ghcr.io/acme/shop",
         "{type: manifest, path: deployment.yaml, kind: Deployment, name: shop, container: shopd}",
         {"deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n"
                             "  template:\n    metadata:\n      annotations:\n        prometheus.io/port: \"9797\"\n"
                             "    spec:\n      containers:\n      - name: shopd\n"
                             "        image: ghcr.io/acme/shop:6.1.1\n        imagePullPolicy: IfNotPresent\n"},
         "ghcr.io/acme/shop:6.1.2",
         {"deployment.yaml": ("shop:6.1.1", "shop:6.1.2")}),
    # fluxcd/flux2-kustomize-helm-example apps/base/startmeup/app/api.yaml: leading `---`, blank line
    # after the image, SNAPSHOT tag
    Case("deployment-leading-document-start", "acme/api",
         "{type: manifest, path: api.yaml, kind: Deployment, container: api}",
         {"api.yaml": "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n"
                      "    spec:\n      containers:\n        - name: api\n          image: acme/api:1.0.25-SNAPSHOT\n"
                      "\n          imagePullPolicy: Always\n"},
         "acme/api:1.0.26-SNAPSHOT",
         {"api.yaml": ("1.0.25-SNAPSHOT", "1.0.26-SNAPSHOT")}),
    # prometheus-operator/kube-prometheus manifests/nodeExporter-daemonset.yaml: keys sorted (`image`
    # before `name`), a sidecar of another image in the same pod
    Case("daemonset-sidecar", "quay.io/prometheus/node-exporter",
         "{type: manifest, path: daemonset.yaml, kind: DaemonSet, container: node-exporter}",
         {"daemonset.yaml": "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: node-exporter\nspec:\n"
                            "  template:\n    spec:\n      containers:\n      - args:\n        - --web.listen-address=:9100\n"
                            "        image: quay.io/prometheus/node-exporter:v1.6.0\n        name: node-exporter\n"
                            "      - image: quay.io/brancz/kube-rbac-proxy:v0.14.1\n        name: kube-rbac-proxy\n"},
         "quay.io/prometheus/node-exporter:v1.7.0",
         {"daemonset.yaml": ("node-exporter:v1.6.0", "node-exporter:v1.7.0")}),
    # kubernetes/examples cassandra/cassandra-statefulset.yaml, written with an init container
    Case("statefulset", "gcr.io/acme/cassandra",
         "{type: manifest, path: statefulset.yaml, kind: StatefulSet, container: init}",
         {"statefulset.yaml": "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: cassandra\nspec:\n"
                              "  template:\n    spec:\n      initContainers:\n      - name: init\n"
                              "        image: gcr.io/acme/cassandra:v14\n      containers:\n"
                              "      - name: cassandra\n        image: gcr.io/acme/cassandra:v14\n"},
         "gcr.io/acme/cassandra:v15",
         {"statefulset.yaml": ("name: init\n        image: gcr.io/acme/cassandra:v14",
                               "name: init\n        image: gcr.io/acme/cassandra:v15")}),
    # kubernetes-sigs/descheduler kubernetes/cronjob/cronjob.yaml, stefanprodan/podinfo
    # deploy/bases/database/cronjob-backup-daily.yaml
    Case("cronjob", "registry.k8s.io/descheduler/descheduler",
         "{type: manifest, path: cronjob.yaml, kind: CronJob, container: descheduler}",
         {"cronjob.yaml": "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: descheduler\nspec:\n"
                          "  schedule: \"*/2 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n"
                          "        spec:\n          containers:\n          - name: descheduler\n"
                          "            image: registry.k8s.io/descheduler/descheduler:v0.22.0\n"},
         "registry.k8s.io/descheduler/descheduler:v0.29.0",
         {"cronjob.yaml": ("v0.22.0", "v0.29.0")}),
    # kubernetes-sigs/descheduler kubernetes/job/job.yaml: a Job, containers indented under the key
    Case("job", "registry.k8s.io/descheduler/descheduler",
         "{type: manifest, path: job.yaml, kind: Job, container: descheduler}",
         {"job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: descheduler-job\nspec:\n"
                      "  template:\n    spec:\n      containers:\n        - name: descheduler\n"
                      "          image: registry.k8s.io/descheduler/descheduler:v0.22.0\n"},
         "registry.k8s.io/descheduler/descheduler:v0.29.0",
         {"job.yaml": ("v0.22.0", "v0.29.0")}),
    # argoproj/argo-rollouts examples/rollout-canary.yaml
    Case("argo-rollout", "argoproj/rollouts-demo",
         "{type: manifest, path: rollout.yaml, kind: Rollout, container: rollouts-demo}",
         {"rollout.yaml": "# canary with a pause\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n"
                          "  name: rollout-canary\nspec:\n  template:\n    spec:\n      containers:\n"
                          "      - name: rollouts-demo\n        image: argoproj/rollouts-demo:blue\n"
                          "  strategy:\n    canary:\n      steps:\n      - setWeight: 20\n      - pause: {}\n"},
         "argoproj/rollouts-demo:yellow",
         {"rollout.yaml": ("rollouts-demo:blue", "rollouts-demo:yellow")}),
    # argoproj/argo-rollouts examples/rollout-bluegreen.yaml: Rollout + Services, trailing space after
    # `blueGreen:`
    Case("argo-rollout-multi-document", "argoproj/rollouts-demo",
         "{type: manifest, path: rollout.yaml, kind: Rollout, name: rollout-bluegreen, container: rollouts-demo}",
         {"rollout.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: rollout-bluegreen\n"
                          "spec:\n  template:\n    spec:\n      containers:\n      - name: rollouts-demo\n"
                          "        image: argoproj/rollouts-demo:blue\n  strategy:\n    blueGreen: \n"
                          "      activeService: rollout-bluegreen-active\n\n---\nkind: Service\n"
                          "apiVersion: v1\nmetadata:\n  name: rollout-bluegreen-active\n"},
         "argoproj/rollouts-demo:green",
         {"rollout.yaml": ("rollouts-demo:blue", "rollouts-demo:green")}),
    # argoproj/argo-rollouts examples/workload-ref/workload-ref.yaml: the Rollout has no template; the
    # image lives in the Deployment it references
    Case("argo-rollout-workload-ref", "docker.example.com/argoproj/rollouts-demo",
         "{type: manifest, path: workload-ref.yaml, kind: Rollout, container: rollouts-demo}",
         {"workload-ref.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ref\nspec:\n"
                               "  replicas: 0\n  template:\n    spec:\n      containers:\n"
                               "        - name: rollouts-demo\n"
                               "          image: docker.example.com/argoproj/rollouts-demo:blue\n\n---\n"
                               "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: ref\n"
                               "spec:\n  workloadRef:\n    apiVersion: apps/v1\n    kind: Deployment\n"
                               "    name: ref\n"},
         "docker.example.com/argoproj/rollouts-demo:green",
         refusal="workload-ref.yaml:19: at apps.web.targets[0]: the Rollout takes its pod template from "
                 "Deployment/ref (spec.workloadRef): target `kind: Deployment, name: ref` instead"),
    # same file, the right target: the referenced Deployment
    Case("argo-rollout-workload-ref", "docker.example.com/argoproj/rollouts-demo",
         "{type: manifest, path: workload-ref.yaml, kind: Deployment, name: ref, container: rollouts-demo}",
         {"workload-ref.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ref\nspec:\n"
                               "  template:\n    spec:\n      containers:\n        - name: rollouts-demo\n"
                               "          image: docker.example.com/argoproj/rollouts-demo:blue\n\n---\n"
                               "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: ref\n"
                               "spec:\n  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: ref}\n"},
         "docker.example.com/argoproj/rollouts-demo:green",
         {"workload-ref.yaml": ("rollouts-demo:blue", "rollouts-demo:green")}),
    # argoproj/argo-rollouts examples/example-experiment.yaml: templates[].template.spec (not a workload
    # kind handoff knows): reached by a marker on the image line
    Case("argo-experiment-templates", "argoproj/rollouts-demo",
         "{type: marker, path: experiment.yaml}",
         {"experiment.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Experiment\nmetadata:\n  name: exp\nspec:\n"
                             "  templates:\n  - name: baseline\n    template:\n      spec:\n        containers:\n"
                             "        - name: guestbook\n          image: argoproj/rollouts-demo:blue\n"
                             "  - name: canary\n    template:\n      spec:\n        containers:\n"
                             "        - name: guestbook\n"
                             "          image: argoproj/rollouts-demo:yellow # handoff:image web\n"},
         "argoproj/rollouts-demo:purple",
         {"experiment.yaml": ("rollouts-demo:yellow", "rollouts-demo:purple")}),
    # krancour/kargo-examples .../02-helm-driven/02-image-only/02-with-git-repo/argocd.yaml: an
    # ApplicationSet's helm parameter holding the whole reference, a comment above it
    Case("argocd-helm-parameters", "public.ecr.aws/nginx/nginx",
         "{type: helm, path: argocd.yaml, image: 'spec.template.spec.source.helm.parameters[name=image.name].value'}",
         {"argocd.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: demo\nspec:\n"
                         "  template:\n    spec:\n      source:\n        path: charts/demo\n        helm:\n"
                         "          parameters:\n          # updated for every new image\n"
                         "          - name: image.name\n            value: public.ecr.aws/nginx/nginx:1.25.0\n"},
         "public.ecr.aws/nginx/nginx:1.25.3",
         {"argocd.yaml": ("nginx:1.25.0", "nginx:1.25.3")}),
    # argoproj/argo-cd docs/operator-manual/application.yaml (helm.parameters): the tag as its own
    # parameter, value quoted
    Case("argocd-helm-parameters", "ghcr.io/acme/shop",
         "{type: helm, path: app.yaml, tag: 'spec.source.helm.parameters[name=image.tag].value'}",
         {"app.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: shop\nspec:\n"
                      "  source:\n    helm:\n      parameters:\n      - name: replicaCount\n        value: \"2\"\n"
                      "      - name: image.tag\n        value: \"1.0.0\"\n"},
         "ghcr.io/acme/shop:1.0.1",
         {"app.yaml": ("value: \"1.0.0\"", "value: \"1.0.1\"")}),
    # krancour/kargo-examples .../03-kustomize-driven/01-image-only/argocd.yaml and argoproj/argo-cd
    # docs/operator-manual/application.yaml: kustomize.images as `NAME=REFERENCE` strings; the
    # `NAME=` part is kept
    Case("argocd-kustomize-images-override", "public.ecr.aws/nginx/nginx",
         "{type: helm, path: argocd.yaml, image: 'spec.template.spec.source.kustomize.images[0]'}",
         {"argocd.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: demo\nspec:\n"
                         "  template:\n    spec:\n      source:\n        path: stages/test\n        kustomize:\n"
                         "          images:\n          # updated for every new image\n"
                         "          - public.ecr.aws/nginx/nginx=public.ecr.aws/nginx/nginx:1.25.0\n"},
         "public.ecr.aws/nginx/nginx:1.25.3",
         {"argocd.yaml": ("nginx=public.ecr.aws/nginx/nginx:1.25.0", "nginx=public.ecr.aws/nginx/nginx:1.25.3")}),
    # argoproj/argo-cd docs/operator-manual/application.yaml: kustomize.images as a plain reference
    Case("argocd-kustomize-images-override", "gcr.io/acme/guestbook",
         "{type: helm, path: app.yaml, image: 'spec.source.kustomize.images[0]'}",
         {"app.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: guestbook\nspec:\n"
                      "  source:\n    kustomize:\n      namePrefix: prod-\n      images:\n"
                      "      - gcr.io/acme/guestbook:0.2\n      - my-app=gcr.io/acme/my-app:0.1\n"},
         "gcr.io/acme/guestbook:0.3",
         {"app.yaml": ("guestbook:0.2", "guestbook:0.3")}),
    # kubernetes/examples guestbook/all-in-one/guestbook-all-in-one.yaml: many documents, a comment
    # after the image on its line
    Case("manifest-multi-document-commented-image", "registry.k8s.io/redis",
         "{type: manifest, path: all-in-one.yaml, kind: Deployment, name: redis-master, container: master}",
         {"all-in-one.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: redis-master\n---\n"
                             "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: redis-master\nspec:\n"
                             "  template:\n    spec:\n      containers:\n      - name: master\n"
                             "        image: registry.k8s.io/redis:e2e  # or just image: redis\n---\n"
                             "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: frontend\nspec:\n"
                             "  template:\n    spec:\n      containers:\n      - name: php-redis\n"
                             "        image: gcr.io/acme/frontend:v4\n"},
         "registry.k8s.io/redis:e2e-2",
         {"all-in-one.yaml": ("redis:e2e  #", "redis:e2e-2  #")}),
    # argoproj/argo-rollouts examples/helm-blue-green/templates/rollout.yaml: a chart template is not
    # YAML handoff edits (`{{ ... }}`): a target on it is refused with the parse error's line
    Case("helm-template-repository-tag", "ghcr.io/acme/shop",
         "{type: manifest, path: templates/rollout.yaml, kind: Rollout, container: shop}",
         {"templates/rollout.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n"
                                    "  name: {{ template \"shop.fullname\" . }}\nspec:\n"
                                    "  replicas: {{ .Values.replicaCount }}\n  template:\n    spec:\n"
                                    "      containers:\n        - name: shop\n"
                                    "          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n"
                                    "          resources:\n{{ toYaml .Values.resources | indent 12 }}\n"},
         "ghcr.io/acme/shop:1.1",
         refusal="templates/rollout.yaml:"),
]


def config(case: Case) -> str:
    return f"apps:\n  web:\n    image: {case.image}\n    targets:\n      - {case.targets}\n"


def expected(case: Case) -> dict[str, str]:
    out = dict(case.files)
    for name, (old, new) in case.edits.items():
        assert out[name].count(old) == 1, (case.layout, old)
        out[name] = out[name].replace(old, new)
    return out


@pytest.mark.parametrize("case", CASES, ids=[f"{i}-{c.layout}" for i, c in enumerate(CASES)])
def test_layout(case: Case, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": config(case), **case.files})
    if case.refusal:
        before = snapshot(repo)
        with pytest.raises(HandoffError) as err:
            bump(repo, case.bump_to, app="web")
        message = str(err.value)
        assert "\n" not in message
        assert message == case.refusal or (case.refusal.endswith(":") and message.startswith(case.refusal))
        assert snapshot(repo) == before
        return
    result = bump(repo, case.bump_to, app="web")
    assert result.changed
    after = {name: (repo / name).read_text() for name in case.files}
    assert after == expected(case)
    for name in case.files:  # each edit is one line
        old_lines, new_lines = case.files[name].splitlines(), after[name].splitlines()
        if len(old_lines) == len(new_lines):
            assert sum(a != b for a, b in zip(old_lines, new_lines, strict=True)) <= 2
    assert not plan_bump(repo, case.bump_to, app="web").changed  # the same image again: no-op


def test_every_case_stands_for_a_studied_layout_and_forty_files_were_studied() -> None:
    with STUDIED.open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert len(rows) >= 40
    assert len({(r["repo"], r["path"]) for r in rows}) == len(rows)
    layouts = {r["layout"] for r in rows}
    assert {c.layout for c in CASES} <= layouts
