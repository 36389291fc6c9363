"""Pod Security Standards (Kubernetes v1.31 definitions), baseline and restricted levels.

Each check follows the "Restricted Fields" and "Allowed Values" of the standard; containers,
init containers and ephemeral containers all count.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from seawall.policy.builtin import (
    CheckContext,
    Violation,
    annotation_pointer,
    check,
    remove,
    replace,
    set_field,
    truthy,
)
from seawall.policy.objects import Container, KubeObject, as_list, as_mapping

BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)
RESTRICTED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def _contexts(obj: KubeObject) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The pod's and every container's securityContext, with their paths."""
    yield f"{obj.pod_path}.securityContext", obj.pod_security_context
    for container in obj.containers:
        yield f"{container.path}.securityContext", container.security_context


@check("pss-baseline-host-process")
def host_process(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for path, context in _contexts(obj):
        if truthy(as_mapping(context.get("windowsOptions")).get("hostProcess")):
            field = f"{path}.windowsOptions.hostProcess"
            yield Violation(f"{field}=true", "Windows HostProcess is not allowed", (remove(field),))


@check("pss-baseline-host-namespaces")
def host_namespaces(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for name in ("hostNetwork", "hostPID", "hostIPC"):
        if truthy(obj.pod_spec.get(name)):
            field = f"{obj.pod_path}.{name}"
            yield Violation(
                f"{field}=true",
                f"sharing the host namespace ({name}) is not allowed",
                (remove(field),),
            )


@check("pss-baseline-privileged")
def privileged(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for container in obj.containers:
        if truthy(container.security_context.get("privileged")):
            field = f"{container.path}.securityContext.privileged"
            yield Violation(
                f"{field}=true",
                f"{container.label} is privileged",
                (replace(field, False),),
            )


def _added_capabilities(container: Container) -> list[str]:
    caps = as_mapping(container.security_context.get("capabilities"))
    return [str(c) for c in as_list(caps.get("add"))]


@check("pss-baseline-capabilities")
def baseline_capabilities(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for container in obj.containers:
        extra = [c for c in _added_capabilities(container) if c not in BASELINE_CAPABILITIES]
        if extra:
            field = f"{container.path}.securityContext.capabilities.add"
            kept = [c for c in _added_capabilities(container) if c in BASELINE_CAPABILITIES]
            yield Violation(
                f"{field}={extra}",
                f"{container.label} adds capabilities beyond the baseline: {', '.join(extra)}",
                (replace(field, kept),),
            )


@check("pss-baseline-host-path")
def host_path(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for index, volume in enumerate(as_list(obj.pod_spec.get("volumes"))):
        if isinstance(volume, Mapping) and "hostPath" in volume:
            path = as_mapping(volume.get("hostPath")).get("path", "")
            field = f"{obj.pod_path}.volumes[{index}]"
            yield Violation(
                f"{field}.hostPath.path={path}",
                f"volume {volume.get('name', index)} mounts the host path {path}",
                (remove(field),),
            )


@check("pss-baseline-host-ports")
def host_ports(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for container in obj.containers:
        for index, port in enumerate(as_list(container.spec.get("ports"))):
            host_port = as_mapping(port).get("hostPort")
            if host_port not in (None, 0, "0"):
                field = f"{container.path}.ports[{index}].hostPort"
                yield Violation(
                    f"{field}={host_port}",
                    f"{container.label} binds host port {host_port}",
                    (remove(field),),
                )


@check("pss-baseline-apparmor")
def apparmor(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for path, context in _contexts(obj):
        kind = as_mapping(context.get("appArmorProfile")).get("type")
        if kind not in (None, "RuntimeDefault", "Localhost"):
            field = f"{path}.appArmorProfile.type"
            yield Violation(
                f"{field}={kind}",
                f"AppArmor profile {kind} is not allowed",
                (replace(field, "RuntimeDefault"),),
            )
    template = obj.pod_path.removesuffix(".spec").removesuffix("spec")
    for key, value in obj.pod_annotations.items():
        if key.startswith(APPARMOR_ANNOTATION) and not (
            value == "runtime/default" or value.startswith("localhost/")
        ):
            yield Violation(
                f"annotation {key}={value}",
                f"AppArmor profile {value} is not allowed",
                ({"op": "remove", "path": annotation_pointer(key, template)},),
            )


@check("pss-baseline-selinux")
def selinux(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for path, context in _contexts(obj):
        options = as_mapping(context.get("seLinuxOptions"))
        bad = [
            f"{key}={options[key]}"
            for key in ("user", "role")
            if options.get(key) not in (None, "")
        ]
        if options.get("type", "") not in SELINUX_TYPES:
            bad.append(f"type={options['type']}")
        if bad:
            yield Violation(
                f"{path}.seLinuxOptions: {', '.join(bad)}",
                "custom SELinux user, role or type is not allowed",
                (remove(f"{path}.seLinuxOptions"),),
            )


@check("pss-baseline-proc-mount")
def proc_mount(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for container in obj.containers:
        mount = container.security_context.get("procMount")
        if mount not in (None, "Default"):
            field = f"{container.path}.securityContext.procMount"
            yield Violation(
                f"{field}={mount}", f"{container.label} unmasks /proc ({mount})", (remove(field),)
            )


def _seccomp_type(context: Mapping[str, Any]) -> Any:
    return as_mapping(context.get("seccompProfile")).get("type")


@check("pss-baseline-seccomp")
def seccomp_unconfined(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for path, context in _contexts(obj):
        if _seccomp_type(context) == "Unconfined":
            field = f"{path}.seccompProfile.type"
            yield Violation(
                f"{field}=Unconfined",
                "seccomp must not be Unconfined",
                (replace(field, "RuntimeDefault"),),
            )


@check("pss-baseline-sysctls")
def sysctls(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for index, sysctl in enumerate(as_list(obj.pod_security_context.get("sysctls"))):
        name = as_mapping(sysctl).get("name")
        if name not in SAFE_SYSCTLS:
            field = f"{obj.pod_path}.securityContext.sysctls[{index}]"
            yield Violation(f"{field}.name={name}", f"unsafe sysctl {name}", (remove(field),))


@check("pss-restricted-volume-types")
def volume_types(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for index, volume in enumerate(as_list(obj.pod_spec.get("volumes"))):
        kinds = [k for k in as_mapping(volume) if k != "name"]
        bad = [k for k in kinds if k not in RESTRICTED_VOLUMES]
        if bad:
            field = f"{obj.pod_path}.volumes[{index}]"
            yield Violation(
                f"{field}: {', '.join(bad)}",
                f"volume {as_mapping(volume).get('name', index)} uses the {bad[0]} volume type",
                (remove(field),),
            )


@check("pss-restricted-privilege-escalation")
def privilege_escalation(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for container in obj.containers:
        value = container.security_context.get("allowPrivilegeEscalation")
        if value is not False:
            field = f"{container.path}.securityContext"
            yield Violation(
                f"{field}.allowPrivilegeEscalation={value if value is not None else 'unset'}",
                f"{container.label} must set allowPrivilegeEscalation: false",
                (set_field(field, container.security_context, "allowPrivilegeEscalation", False),),
            )


@check("pss-restricted-run-as-non-root")
def run_as_non_root(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    pod_value = obj.pod_security_context.get("runAsNonRoot")
    for container in obj.containers:
        value = container.security_context.get("runAsNonRoot", pod_value)
        if value is not True:
            shown = value if value is not None else "unset"
            if "runAsNonRoot" in container.security_context:  # the container overrides the pod
                fix = replace(f"{container.path}.securityContext.runAsNonRoot", True)
            else:
                fix = set_field(
                    f"{obj.pod_path}.securityContext",
                    obj.pod_security_context,
                    "runAsNonRoot",
                    True,
                )
            yield Violation(
                f"{container.path}.securityContext.runAsNonRoot={shown}",
                f"{container.label} may run as root",
                (fix,),
            )


@check("pss-restricted-run-as-user")
def run_as_user(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for path, context in _contexts(obj):
        if context.get("runAsUser") == 0:
            field = f"{path}.runAsUser"
            yield Violation(
                f"{field}=0",
                "runAsUser 0 (root) is not allowed",
                (replace(field, 65532),),
            )


@check("pss-restricted-seccomp")
def seccomp_required(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    pod_type = _seccomp_type(obj.pod_security_context)
    for container in obj.containers:
        own_type = _seccomp_type(container.security_context)
        kind = own_type or pod_type
        if kind not in ("RuntimeDefault", "Localhost"):
            profile = {"type": "RuntimeDefault"}
            if own_type:  # the container overrides the pod
                fix = replace(f"{container.path}.securityContext.seccompProfile", profile)
            else:
                fix = set_field(
                    f"{obj.pod_path}.securityContext",
                    obj.pod_security_context,
                    "seccompProfile",
                    profile,
                )
            yield Violation(
                f"{container.path}.securityContext.seccompProfile.type={kind or 'unset'}",
                f"{container.label} must use the RuntimeDefault or a Localhost seccomp profile",
                (fix,),
            )


@check("pss-restricted-capabilities")
def drop_all(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for container in obj.containers:
        caps = as_mapping(container.security_context.get("capabilities"))
        dropped = [str(c) for c in as_list(caps.get("drop"))]
        added = [c for c in _added_capabilities(container) if c != "NET_BIND_SERVICE"]
        problems = []
        if "ALL" not in dropped:
            problems.append("capabilities.drop lacks ALL")
        if added:
            problems.append(f"capabilities.add={added}")
        if problems:
            field = f"{container.path}.securityContext"
            fixed = {"drop": ["ALL"]}
            if "NET_BIND_SERVICE" in _added_capabilities(container):
                fixed["add"] = ["NET_BIND_SERVICE"]
            yield Violation(
                f"{field}: {'; '.join(problems)}",
                f"{container.label} must drop ALL capabilities and add none but NET_BIND_SERVICE",
                (set_field(field, container.security_context, "capabilities", fixed),),
            )
