"""Write src/seawall/rules/cis-docker.yaml from the CIS Docker Benchmark 1.6.0 check list.

Usage: python tools/gen_cis_catalog.py [TSV] [OUT]
(default TSV: ../shared/reference/cis-docker-1.6-checks.tsv, OUT: the catalog in the tree).

The TSV gives id, title, section, how each check is assessed and whether it is scored; the
rationale, remediation, impact, profile level and severity of each check are kept here, in
family templates (audit rules, file owners and modes) and a table for the rest, written from
the benchmark's published intent. Only sections 1 to 7 (the 117 CIS checks) are written.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TSV = ROOT.parent / "shared" / "reference" / "cis-docker-1.6-checks.tsv"
DEFAULT_OUT = ROOT / "src" / "seawall" / "rules" / "cis-docker.yaml"

# Level 2 checks of the benchmark (everything else is Level 1).
LEVEL_2 = {
    "1.1.1", "2.9", "2.10", "2.11", "2.12", "2.13", "2.14", "2.17",
    "4.5", "4.8", "5.3", "5.13", "5.30",
}  # fmt: skip
HIGH = {
    "1.1.2", "2.5", "2.7", "3.14", "3.15", "3.16", "3.23", "3.24",
    "5.4", "5.5", "5.6", "5.10", "5.16", "5.22", "5.31", "5.32",
}  # fmt: skip

AUDIT = (
    "Auditing {what} records who changed or used it, which an investigation of a "
    "compromised host needs.",
    "Add a watch rule, e.g. `-w {path} -k docker` in /etc/audit/rules.d/docker.rules, then "
    "load it (`augenrules --load` or restart auditd).",
    "Audit records use disk space: rotate and archive the audit logs.",
)
OWNER = (
    "{what} controls the Docker daemon; only root must be able to replace it.",
    "`chown {owner} {path}`",
    "None.",
)
MODE = (
    "{what} must not be writable (or, for keys, readable) by anyone but its owner.",
    "`chmod {mode} {path}`",
    "None.",
)
AUDITED = {
    "1.1.3": ("the Docker daemon", "/usr/bin/dockerd"),
    "1.1.4": ("/run/containerd", "/run/containerd"),
    "1.1.5": ("/var/lib/docker", "/var/lib/docker"),
    "1.1.6": ("/etc/docker", "/etc/docker"),
    "1.1.7": ("docker.service", "/lib/systemd/system/docker.service"),
    "1.1.8": ("containerd.sock", "/run/containerd/containerd.sock"),
    "1.1.9": ("docker.socket", "/lib/systemd/system/docker.socket"),
    "1.1.10": ("/etc/default/docker", "/etc/default/docker"),
    "1.1.11": ("/etc/docker/daemon.json", "/etc/docker/daemon.json"),
    "1.1.12": ("/etc/containerd/config.toml", "/etc/containerd/config.toml"),
    "1.1.13": ("/etc/sysconfig/docker", "/etc/sysconfig/docker"),
    "1.1.14": ("/usr/bin/containerd", "/usr/bin/containerd"),
    "1.1.15": ("/usr/bin/containerd-shim", "/usr/bin/containerd-shim"),
    "1.1.16": ("/usr/bin/containerd-shim-runc-v1", "/usr/bin/containerd-shim-runc-v1"),
    "1.1.17": ("/usr/bin/containerd-shim-runc-v2", "/usr/bin/containerd-shim-runc-v2"),
    "1.1.18": ("/usr/bin/runc", "/usr/bin/runc"),
}
# id -> (template, what, path, owner or mode)
FILES = {
    "3.1": (OWNER, "docker.service", "/lib/systemd/system/docker.service", "root:root"),
    "3.2": (MODE, "docker.service", "/lib/systemd/system/docker.service", "644"),
    "3.3": (OWNER, "docker.socket", "/lib/systemd/system/docker.socket", "root:root"),
    "3.4": (MODE, "docker.socket", "/lib/systemd/system/docker.socket", "644"),
    "3.5": (OWNER, "/etc/docker", "/etc/docker", "root:root"),
    "3.6": (MODE, "/etc/docker", "/etc/docker", "755"),
    "3.7": (OWNER, "A registry certificate", "/etc/docker/certs.d/<registry>/*", "root:root"),
    "3.8": (MODE, "A registry certificate", "/etc/docker/certs.d/<registry>/*", "444"),
    "3.9": (OWNER, "The TLS CA certificate", "<tlscacert>", "root:root"),
    "3.10": (MODE, "The TLS CA certificate", "<tlscacert>", "444"),
    "3.11": (OWNER, "The server certificate", "<tlscert>", "root:root"),
    "3.12": (MODE, "The server certificate", "<tlscert>", "444"),
    "3.13": (OWNER, "The server key", "<tlskey>", "root:root"),
    "3.14": (MODE, "The server key", "<tlskey>", "400"),
    "3.15": (OWNER, "The Docker socket", "/var/run/docker.sock", "root:docker"),
    "3.16": (MODE, "The Docker socket", "/var/run/docker.sock", "660"),
    "3.17": (OWNER, "daemon.json", "/etc/docker/daemon.json", "root:root"),
    "3.18": (MODE, "daemon.json", "/etc/docker/daemon.json", "644"),
    "3.19": (OWNER, "/etc/default/docker", "/etc/default/docker", "root:root"),
    "3.20": (MODE, "/etc/default/docker", "/etc/default/docker", "644"),
    "3.21": (MODE, "/etc/sysconfig/docker", "/etc/sysconfig/docker", "644"),
    "3.22": (OWNER, "/etc/sysconfig/docker", "/etc/sysconfig/docker", "root:root"),
    "3.23": (OWNER, "The containerd socket", "/run/containerd/containerd.sock", "root:root"),
    "3.24": (MODE, "The containerd socket", "/run/containerd/containerd.sock", "660"),
}
NONE = "None."
# id -> (rationale, remediation, impact)
GUIDANCE: dict[str, tuple[str, str, str]] = {
    "1.1.1": (
        "Docker stores images and containers under its data root; on the root partition a "
        "full disk stops the host.",
        "Create a separate partition (or logical volume) for the Docker data root at install "
        "time and mount it there.",
        NONE,
    ),
    "1.1.2": (
        "Members of the docker group control the daemon and so have root on the host.",
        "Remove untrusted users from the docker group: `gpasswd -d USER docker`.",
        "Removed users can no longer run docker commands without sudo.",
    ),
    "1.2.1": (
        "Containers share the host kernel; a weak host weakens every container.",
        "Harden the host following its OS benchmark (e.g. the CIS Linux benchmarks).",
        NONE,
    ),
    "1.2.2": (
        "Older engines carry known vulnerabilities.",
        "Keep Docker Engine and containerd up to date with the vendor's releases.",
        "Test new versions before rolling them out.",
    ),
    "2.1": (
        "A daemon running as root turns a daemon or container escape into root on the host.",
        "Run Docker in rootless mode (`dockerd-rootless-setuptool.sh install`) where its "
        "limitations are acceptable.",
        "Rootless mode lacks some features (e.g. AppArmor, overlay networks, cgroup v1 limits).",
    ),
    "2.2": (
        "On the default bridge every container can reach every other one; traffic should be "
        "allowed explicitly (links, user-defined networks).",
        'Set `"icc": false` in daemon.json (or run dockerd with `--icc=false`).',
        "Containers on the default bridge can no longer talk to each other unless linked.",
    ),
    "2.3": (
        "The info level records what an audit needs without the noise of debug.",
        'Set `"log-level": "info"` in daemon.json or remove the setting.',
        NONE,
    ),
    "2.4": (
        "Docker keeps the firewall rules consistent with the networks and ports it manages.",
        'Remove `--iptables=false` and `"iptables": false`.',
        NONE,
    ),
    "2.5": (
        "Insecure registries are reached without TLS or with unverified TLS, so images can "
        "be swapped in transit.",
        "Remove `insecure-registries` and `--insecure-registry`; give the registries valid TLS.",
        NONE,
    ),
    "2.6": (
        "aufs is unmaintained and has known kernel crashes and security issues.",
        'Use overlay2 (`"storage-driver": "overlay2"`).',
        "Changing the storage driver hides existing images and containers until migrated.",
    ),
    "2.7": (
        "A daemon listening on TCP without verified TLS gives root on the host to anyone who "
        "can reach the port.",
        "Set `tlsverify`, `tlscacert`, `tlscert` and `tlskey` (or listen only on the unix socket).",
        "Clients need certificates signed by the CA.",
    ),
    "2.8": (
        "A default ulimit stops one container from exhausting process or file limits.",
        'Set `"default-ulimits"` in daemon.json (e.g. nofile, nproc).',
        "Containers that need more must say so at run time (`--ulimit`).",
    ),
    "2.9": (
        "With user namespace remapping, root in a container is an unprivileged user on the host.",
        'Set `"userns-remap": "default"` (and subordinate ids in /etc/subuid and /etc/subgid).',
        "Host namespaces, privileged containers and some volume ownerships stop working "
        "unless a container opts out with `--userns=host`.",
    ),
    "2.10": (
        "A non-default cgroup parent changes how container resources are accounted and "
        "limited; it should be a deliberate choice.",
        "Remove `cgroup-parent` unless it was set deliberately.",
        NONE,
    ),
    "2.11": (
        "A larger base device size lets containers fill the host's storage.",
        "Remove `dm.basesize` from the storage options unless needed.",
        NONE,
    ),
    "2.12": (
        "Without an authorization plugin, anyone with access to the socket can do anything.",
        'Install an authorization plugin and set `"authorization-plugins"`.',
        "Every API call passes through the plugin.",
    ),
    "2.13": (
        "Logs kept only on the host can be removed by an attacker and are lost with it.",
        'Set a remote log driver, e.g. `"log-driver": "syslog"` with `"log-opts"`.',
        "`docker logs` works only with drivers that keep a local copy.",
    ),
    "2.14": (
        "no-new-privileges stops processes gaining privileges through setuid binaries.",
        'Set `"no-new-privileges": true` in daemon.json.',
        "Programs relying on setuid (e.g. sudo) stop working in containers.",
    ),
    "2.15": (
        "With live restore, containers keep running while the daemon restarts or is upgraded.",
        'Set `"live-restore": true` in daemon.json.',
        NONE,
    ),
    "2.16": (
        "The userland proxy is an extra network process per published port; the kernel's "
        "hairpin NAT does the same job.",
        'Set `"userland-proxy": false` in daemon.json.',
        "Very old kernels without hairpin NAT cannot reach published ports from the host.",
    ),
    "2.17": (
        "The default seccomp profile blocks dangerous system calls; a custom one can tighten it.",
        'Set `"seccomp-profile"` to a reviewed profile when the default is not enough.',
        "A too strict profile breaks applications.",
    ),
    "2.18": (
        "Experimental features are not supported or security-reviewed.",
        "Do not set `--experimental` in production.",
        NONE,
    ),
    "4.1": (
        "A container running as root is root on the host after a breakout.",
        "Add `USER` with an unprivileged user to the Dockerfile, or run with `--user`.",
        NONE,
    ),
    "4.2": (
        "Base images from unknown sources can carry malware or vulnerabilities.",
        "Use official or internally built base images, verified with content trust.",
        NONE,
    ),
    "4.3": (
        "Every package in an image is attack surface and needs patching.",
        "Install only what the application needs; prefer minimal or distroless bases.",
        NONE,
    ),
    "4.4": (
        "Images age: their packages gain known vulnerabilities.",
        "Scan images (`seawall image scan`) and rebuild them on patched bases regularly.",
        "Rebuilt images need testing before release.",
    ),
    "4.5": (
        "Content trust makes the client pull only signed images.",
        "`export DOCKER_CONTENT_TRUST=1` for every user and service that pulls images.",
        "Unsigned images can no longer be pulled or run.",
    ),
    "4.6": (
        "A health check lets the engine and orchestrators notice a broken container.",
        "Add a `HEALTHCHECK` instruction to the Dockerfile.",
        NONE,
    ),
    "4.7": (
        "An `update` in its own layer is cached and never refreshed, so later installs use "
        "stale package lists.",
        "Combine update and install in one RUN (`apt-get update && apt-get install ...`).",
        NONE,
    ),
    "4.8": (
        "setuid and setgid binaries let a process gain privileges inside the container.",
        "Remove the bits in the Dockerfile: `RUN find / -perm /6000 -type f -exec chmod a-s {} +`.",
        "Programs relying on them stop working.",
    ),
    "4.9": (
        "ADD fetches URLs and unpacks archives, which can bring in unexpected content.",
        "Use COPY (and explicit downloads with verification) instead of ADD.",
        NONE,
    ),
    "4.10": (
        "Secrets in a Dockerfile stay in the image history for anyone who pulls it.",
        "Use build secrets (`RUN --mount=type=secret`) or runtime secrets.",
        NONE,
    ),
    "4.11": (
        "Unverified packages may have been tampered with.",
        "Install packages only through package managers that verify signatures (GPG).",
        NONE,
    ),
    "4.12": (
        "Signatures mean nothing unless they are checked before use.",
        "Verify image and artifact signatures (Notary, cosign) before deploying.",
        NONE,
    ),
    "5.1": (
        "Swarm mode opens management ports and keeps cluster secrets; leave it off if unused.",
        "`docker swarm leave` on hosts that need not be in a swarm.",
        NONE,
    ),
    "5.2": (
        "AppArmor confines what a container's processes can access.",
        "Run containers with an AppArmor profile (`--security-opt apparmor=PROFILE`; "
        "docker-default applies when AppArmor is enabled on the host).",
        "A too strict profile breaks applications.",
    ),
    "5.3": (
        "SELinux labels confine containers on SELinux hosts.",
        "Enable SELinux in the daemon (`--selinux-enabled`) and set labels with "
        "`--security-opt label=...`.",
        "A too strict policy breaks applications.",
    ),
    "5.4": (
        "Each added capability gives root in the container more of the host's power; "
        "SYS_ADMIN alone allows most escapes.",
        "Drop what is not needed (`--cap-drop ALL --cap-add ONLY_NEEDED`).",
        "Applications needing a capability fail until it is added back.",
    ),
    "5.5": (
        "A privileged container has every capability and all host devices: it is root on the host.",
        "Do not run containers with `--privileged`; add only the capabilities needed.",
        NONE,
    ),
    "5.6": (
        "A writable mount of /, /etc, /usr, /boot, /dev, /lib, /proc or /sys lets a container "
        "change the host.",
        "Do not mount sensitive host directories, or mount them read-only (`:ro`).",
        NONE,
    ),
    "5.7": (
        "sshd in a container is another service to secure and bypasses docker exec and its "
        "audit trail.",
        "Remove sshd from the image; use `docker exec` for access.",
        NONE,
    ),
    "5.8": (
        "Ports below 1024 are privileged on the host; mapping container ports there should be "
        "deliberate.",
        "Publish on host ports 1024 and above (`-p 8080:80`).",
        NONE,
    ),
    "5.9": (
        "Every published port is attack surface.",
        "Publish only the ports the service needs; do not use `-P` blindly.",
        NONE,
    ),
    "5.10": (
        "With the host's network namespace a container sees and can bind every host "
        "interface and reach local-only services.",
        "Do not use `--network host`.",
        NONE,
    ),
    "5.11": (
        "Without a memory limit one container can exhaust the host's memory.",
        "Run with `--memory` (and `--memory-swap`).",
        "A container over its limit is killed by the OOM killer.",
    ),
    "5.12": (
        "Without CPU shares or a CPU limit, one container can starve the others.",
        "Run with `--cpu-shares` or `--cpus`.",
        NONE,
    ),
    "5.13": (
        "A read-only root filesystem stops an attacker from changing the container's files.",
        "Run with `--read-only` and mount writable volumes (or tmpfs) where data is written.",
        "Applications writing to their filesystem need volumes or tmpfs.",
    ),
    "5.14": (
        "Ports published on 0.0.0.0 are reachable on every host interface.",
        "Bind published ports to one interface: `-p 127.0.0.1:8080:80`.",
        NONE,
    ),
    "5.15": (
        "An unlimited restart policy can hide a crashing container and consume the host.",
        "Use `--restart on-failure:5` (at most 5 retries).",
        "A container that failed 5 times stays down.",
    ),
    "5.16": (
        "With the host's PID namespace a container sees and can signal every host process.",
        "Do not use `--pid host`.",
        NONE,
    ),
    "5.17": (
        "With the host's IPC namespace a container can read other processes' shared memory.",
        "Do not use `--ipc host`.",
        NONE,
    ),
    "5.18": (
        "A host device inside a container gives direct access to hardware.",
        "Pass only needed devices, with minimal permissions (`--device /dev/x:/dev/x:r`).",
        NONE,
    ),
    "5.19": (
        "A container may need limits different from the daemon's default ulimits.",
        "Set `--ulimit` at run time where the default does not fit.",
        NONE,
    ),
    "5.20": (
        "Shared mount propagation lets mounts made in a container appear on the host.",
        "Do not use `shared` or `rshared` propagation on mounts.",
        NONE,
    ),
    "5.21": (
        "With the host's UTS namespace a container can change the host's hostname.",
        "Do not use `--uts host`.",
        NONE,
    ),
    "5.22": (
        "Without seccomp, every system call is available to the container.",
        "Do not run with `--security-opt seccomp=unconfined`.",
        NONE,
    ),
    "5.23": (
        "`docker exec --privileged` gives a process every capability inside a running container.",
        "Do not use `docker exec --privileged`; audit exec events.",
        NONE,
    ),
    "5.24": (
        "`docker exec --user=root` bypasses the container's unprivileged user.",
        "Do not use `docker exec --user=root`; audit exec events.",
        NONE,
    ),
    "5.25": (
        "A custom cgroup parent escapes the limits applied under the default one.",
        "Do not use `--cgroup-parent` unless required.",
        NONE,
    ),
    "5.26": (
        "no-new-privileges stops setuid binaries from raising a process's privileges.",
        "Run with `--security-opt no-new-privileges` (or set it daemon-wide, check 2.14).",
        "setuid programs stop working.",
    ),
    "5.27": (
        "A health check lets the engine notice and report an unhealthy container.",
        "Add a `HEALTHCHECK` to the image or `--health-cmd` at run time.",
        NONE,
    ),
    "5.28": (
        "A cached image can be stale; pulling ensures the latest patched version.",
        "Pull images before running them (`docker pull`, `--pull always`).",
        NONE,
    ),
    "5.29": (
        "Without a PIDs limit one container can fork-bomb the host.",
        "Run with `--pids-limit`.",
        "Containers reaching the limit cannot start new processes.",
    ),
    "5.30": (
        "Containers on docker0 share one bridge and can reach each other.",
        "Use user-defined networks and disable the default bridge (`--bridge=none`).",
        NONE,
    ),
    "5.31": (
        "With the host's user namespace, root in the container is root on the host even "
        "when remapping is enabled.",
        "Do not use `--userns=host`.",
        NONE,
    ),
    "5.32": (
        "Whoever can reach docker.sock controls the daemon and so the host.",
        "Do not mount /var/run/docker.sock into containers.",
        NONE,
    ),
    "6.1": (
        "Unused images take space and may be run by mistake with old vulnerabilities.",
        "Remove unused images (`docker image prune -a`).",
        NONE,
    ),
    "6.2": (
        "Stopped containers keep their data and configuration around unnoticed.",
        "Remove stopped containers (`docker container prune`).",
        NONE,
    ),
    "7.1": (
        "Enough managers keep a swarm's quorum; too many slow it down.",
        "Promote or demote nodes to run an odd number of managers (3, 5 or 7).",
        NONE,
    ),
    "7.2": (
        "The swarm management port should listen only on the intended interface.",
        "Initialise the swarm with `--listen-addr <ip>:2377`.",
        NONE,
    ),
    "7.3": (
        "Overlay traffic between nodes is in clear text unless the network is encrypted.",
        "Create overlay networks with `--opt encrypted`.",
        "Encryption costs some throughput.",
    ),
    "7.4": (
        "Swarm secrets are encrypted at rest and given only to the services that need them.",
        "Store secrets with `docker secret create` instead of environment variables or images.",
        NONE,
    ),
    "7.5": (
        "Auto-lock keeps the swarm's keys encrypted on disk until an operator unlocks them.",
        "`docker swarm update --autolock=true`.",
        "A restarted manager must be unlocked with the key.",
    ),
    "7.6": (
        "A lock key that never changes may have leaked.",
        "Rotate it periodically: `docker swarm unlock-key --rotate`.",
        NONE,
    ),
    "7.7": (
        "Short-lived node certificates limit the use of a stolen one.",
        "`docker swarm update --cert-expiry 48h` (or as policy requires).",
        NONE,
    ),
    "7.8": (
        "A rotated CA limits the damage of a leaked CA key.",
        "Rotate the CA periodically: `docker swarm ca --rotate`.",
        NONE,
    ),
    "7.9": (
        "Separating management and data traffic keeps one from starving or sniffing the other.",
        "Initialise with `--advertise-addr` and `--data-path-addr` on different interfaces.",
        NONE,
    ),
}


def _guidance(check_id: str) -> tuple[str, str, str]:
    if check_id in AUDITED:
        what, path = AUDITED[check_id]
        return tuple(part.format(what=what, path=path) for part in AUDIT)  # type: ignore[return-value]
    if check_id in FILES:
        template, what, path, value = FILES[check_id]
        return tuple(  # type: ignore[return-value]
            part.format(what=what, path=path, owner=value, mode=value) for part in template
        )
    return GUIDANCE[check_id]


def _severity(check_id: str, scored: bool) -> str:
    if check_id in HIGH:
        return "high"
    return "medium" if scored else "low"


def build(tsv: Path) -> list[dict[str, object]]:
    """The catalog entries, in benchmark order."""
    rules: list[dict[str, object]] = []
    with tsv.open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            section = row["section"]
            if not section[:1].isdigit() or int(section.split()[0]) > 7:
                continue
            scored = "not scored" not in row["scored_level"]
            rationale, remediation, impact = _guidance(row["id"])
            rules.append(
                {
                    "id": row["id"],
                    "title": row["title"],
                    "severity": _severity(row["id"], scored),
                    "level": 2 if row["id"] in LEVEL_2 else 1,
                    "scored": scored,
                    "description": row["how_checked"],
                    "rationale": rationale,
                    "remediation": remediation,
                    "impact": impact,
                    "references": ["https://www.cisecurity.org/benchmark/docker"],
                    "mappings": {
                        "cis-docker-1.6": row["id"],
                        "section": section,
                        "assessment": row["scored_level"].split(";")[0],
                    },
                }
            )
    return rules


def main() -> None:
    tsv = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_TSV
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_OUT
    rules = build(tsv)
    header = (
        "# CIS Docker Benchmark 1.6.0, sections 1-7: generated by tools/gen_cis_catalog.py\n"
        "# from ../shared/reference/cis-docker-1.6-checks.tsv. Edit the script, not this file.\n"
    )
    out.write_text(header + yaml.safe_dump(rules, sort_keys=False, width=100))
    print(f"wrote {len(rules)} rules to {out}")


if __name__ == "__main__":
    main()
