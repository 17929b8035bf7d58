# The built-in handoff pack (default params) as conftest Rego, for bench/bench_policy.py.
# Same checks, same scope: workload kinds, per container (init/ephemeral where handoff does).
package main

import rego.v1

workload_kinds := {"Pod", "PodTemplate", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
	"ReplicationController", "Job", "CronJob"}

long_running_kinds := workload_kinds - {"Job", "CronJob"}

pod_spec := input.spec if input.kind == "Pod"

pod_spec := input.template.spec if input.kind == "PodTemplate"

pod_spec := input.spec.jobTemplate.spec.template.spec if input.kind == "CronJob"

pod_spec := input.spec.template.spec if {
	input.kind in workload_kinds
	not input.kind in {"Pod", "PodTemplate", "CronJob"}
}

containers contains c if some c in pod_spec.containers

all_containers contains c if some c in pod_spec.containers

all_containers contains c if some c in pod_spec.initContainers

all_containers contains c if some c in pod_spec.ephemeralContainers

last_segment(image) := parts[count(parts) - 1] if parts := split(image, "/")

# disallow-latest-tag
deny contains msg if {
	some c in all_containers
	not contains(c.image, "@")
	not contains(last_segment(c.image), ":")
	msg := sprintf("disallow-latest-tag: container %s uses image %s without a tag", [c.name, c.image])
}

deny contains msg if {
	some c in all_containers
	not contains(c.image, "@")
	endswith(c.image, ":latest")
	msg := sprintf("disallow-latest-tag: container %s uses image %s tagged latest", [c.name, c.image])
}

# require-requests-limits
warn contains msg if {
	some c in containers
	some field in ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]
	[section, resource] := split(field, ".")
	not c.resources[section][resource]
	msg := sprintf("require-requests-limits: container %s has no %s", [c.name, field])
}

# require-probes
warn contains msg if {
	input.kind in long_running_kinds
	some c in containers
	some probe in ["livenessProbe", "readinessProbe"]
	not c[probe]
	msg := sprintf("require-probes: container %s has no %s", [c.name, probe])
}

# run-as-non-root
effective_non_root(c) if c.securityContext.runAsNonRoot == true

effective_non_root(c) if {
	not has_key(object.get(c, "securityContext", {}), "runAsNonRoot")
	pod_spec.securityContext.runAsNonRoot == true
}

has_key(obj, key) if _ = obj[key]

warn contains msg if {
	some c in all_containers
	not effective_non_root(c)
	msg := sprintf("run-as-non-root: container %s may run as root", [c.name])
}

# disallow-privileged
deny contains msg if {
	some c in all_containers
	c.securityContext.privileged == true
	msg := sprintf("disallow-privileged: container %s runs privileged", [c.name])
}

# disallow-privilege-escalation
warn contains msg if {
	some c in all_containers
	not c.securityContext.allowPrivilegeEscalation == false
	msg := sprintf("disallow-privilege-escalation: container %s allows privilege escalation", [c.name])
}

# disallow-host-path
deny contains msg if {
	some v in pod_spec.volumes
	v.hostPath
	msg := sprintf("disallow-host-path: volume %s mounts a host path", [v.name])
}

# image-pull-policy
warn contains msg if {
	some c in all_containers
	not contains(c.image, "@")
	not c.imagePullPolicy == "Always"
	msg := sprintf("image-pull-policy: container %s has imagePullPolicy %v", [c.name, object.get(c, "imagePullPolicy", "unset")])
}

# disallow-capabilities
allowed_capabilities := {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}

warn contains msg if {
	some c in all_containers
	extra := [cap | some cap in c.securityContext.capabilities.add; not cap in allowed_capabilities]
	count(extra) > 0
	msg := sprintf("disallow-capabilities: container %s adds capabilities beyond Pod Security baseline: %s",
		[c.name, concat(", ", extra)])
}

# disallow-host-namespaces
deny contains msg if {
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	pod_spec[field] == true
	msg := sprintf("disallow-host-namespaces: the pod shares a node namespace (%s)", [field])
}

# disallow-host-ports
warn contains msg if {
	some c in all_containers
	some p in c.ports
	p.hostPort
	p.hostPort != 0
	msg := sprintf("disallow-host-ports: container %s binds a port of the node (hostPort)", [c.name])
}
