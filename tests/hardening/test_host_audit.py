"""`seawall host audit` against real Docker Engines: every CIS check's status on a careless
and on a hardened configuration (see conftest.py for both hosts)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from seawall.hardening.docker.audit import AuditOptions, audit_host
from seawall.hardening.docker.collect import CollectOptions
from seawall.model import Finding, Status
from seawall.rules import catalog
from tests.hardening.conftest import AuditedHost

P, F, W, I, M, NA, E = "pass", "fail", "warn", "info", "manual", "not_applicable", "error"  # noqa: E741
CARELESS = ("wild", "ssh", "ports", "priv")
HARDENED = ("good1", "good2")

# Checks whose outcome depends on the machine's own files (audit rules, unit files, /etc):
# asserted with a constructed root in test_host_files.py.
HOST_DEPENDENT = {r for r in catalog("cis-docker") if r.startswith("1.1.") and r != "1.1.1"}
HOST_DEPENDENT |= {"1.1.2", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.19", "3.20"}

COMMON = {
    "1.1.1": F,  # the data root is a directory of /tmp, not a partition
    "1.2.1": M, "1.2.2": I, "2.1": I, "2.6": P, "2.7": NA, "2.10": P, "2.11": P,
    "2.12": F, "2.17": P,
    "3.7": NA, "3.8": NA, "3.9": NA, "3.10": NA, "3.11": NA, "3.12": NA, "3.13": NA,
    "3.14": NA, "3.15": P, "3.16": P, "3.17": P, "3.18": P, "3.21": NA, "3.22": NA,
    "3.23": P, "3.24": P,
    "4.2": M, "4.3": M, "4.4": M, "4.5": F, "4.7": {"image": P}, "4.8": M,
    "4.9": {"image": P}, "4.10": M,
    "4.11": M, "4.12": M,
    "5.1": P, "5.23": M, "5.24": M, "5.28": M, "5.30": P, "6.1": P, "6.2": P,
    **{f"7.{n}": NA for n in range(1, 10)},
}  # fmt: skip

CARELESS_HOST = {
    **COMMON,
    "2.2": F, "2.3": F, "2.4": F, "2.5": F, "2.8": I, "2.9": F, "2.13": F, "2.14": F,
    "2.15": F, "2.16": F, "2.18": F,
    "4.6": {"image": F},
}  # fmt: skip
# Per container: the status of every container unless listed.
CARELESS_CONTAINERS: dict[str, tuple[str, dict[str, str]]] = {
    "4.1": (F, {}),
    "5.2": (NA, {}),  # AppArmor is not enabled on the test machine
    "5.3": (NA, {}),  # nor SELinux
    "5.4": (P, {"wild": F, "priv": F}),
    "5.5": (P, {"priv": F}),
    "5.6": (P, {"wild": F}),
    "5.7": (NA, {"wild": P, "ssh": F}),  # processes are listed for running containers only
    "5.8": (P, {"ports": F}),
    "5.9": (P, {"ports": W}),
    "5.10": (P, {"wild": F}),
    "5.11": (F, {}),
    "5.12": (F, {}),
    "5.13": (F, {}),
    "5.14": (P, {"ports": F}),
    "5.15": (P, {"priv": F}),
    "5.16": (P, {"wild": F}),
    "5.17": (P, {"priv": F}),
    "5.18": (P, {"priv": I}),
    "5.19": (I, {}),
    "5.20": (P, {"priv": F}),
    "5.21": (P, {"priv": F}),
    "5.22": (P, {"priv": F}),
    "5.25": (P, {"priv": W}),
    "5.26": (F, {}),
    "5.27": (F, {}),
    "5.29": (F, {}),
    "5.31": (P, {"priv": F}),
    "5.32": (P, {"wild": F}),
}

HARDENED_HOST = {
    **COMMON,
    "2.2": P, "2.3": P, "2.4": P, "2.5": P, "2.8": P, "2.9": P, "2.13": P, "2.14": P,
    "2.15": P, "2.16": P, "2.18": P,
    "4.6": {"image": P},
}  # fmt: skip
HARDENED_CONTAINERS: dict[str, tuple[str, dict[str, str]]] = {
    check: (P, {}) for check in CARELESS_CONTAINERS
}
HARDENED_CONTAINERS.update(
    {"5.2": (NA, {}), "5.3": (NA, {}), "5.7": (NA, {"good1": P}), "5.9": (P, {})}
)


def _key(finding: Finding) -> tuple[str, str]:
    resource = finding.resource
    where = resource.name if resource.kind == "container" else resource.kind
    return finding.rule.id, "image" if resource.kind == "image" else where


def statuses(findings: Sequence[Finding]) -> dict[tuple[str, str], str]:
    table: dict[tuple[str, str], str] = {}
    for finding in findings:
        key = _key(finding)
        assert key not in table, f"two results for {key}"
        table[key] = finding.status.value
    return table


def expected(
    host: dict[str, object], containers: dict[str, tuple[str, dict[str, str]]],
    names: tuple[str, ...],
) -> dict[tuple[str, str], str]:  # fmt: skip
    table: dict[tuple[str, str], str] = {}
    for check, status in host.items():
        if isinstance(status, dict):
            table.update({(check, where): s for where, s in status.items()})
        else:
            table[(check, "host")] = str(status)
    for check, (default, special) in containers.items():
        table.update({(check, name): special.get(name, default) for name in names})
    return table


def audit(host: AuditedHost, **options: object):
    return audit_host(
        AuditOptions(
            collect=CollectOptions(endpoint=host.endpoint, include_stopped=True),
            **options,  # type: ignore[arg-type]
        )
    )


@pytest.mark.parametrize(
    ("fixture", "host_table", "container_table", "names"),
    [
        ("careless_host", CARELESS_HOST, CARELESS_CONTAINERS, CARELESS),
        ("hardened_host", HARDENED_HOST, HARDENED_CONTAINERS, HARDENED),
    ],
)
def test_every_check_has_the_expected_status(
    request: pytest.FixtureRequest, fixture: str, host_table, container_table, names
) -> None:
    host: AuditedHost = request.getfixturevalue(fixture)
    result = audit(host)
    seen = statuses(result.findings)
    assert {check for check, _ in seen} == set(catalog("cis-docker"))
    want = expected(host_table, container_table, names)
    got = {k: v for k, v in seen.items() if k[0] not in HOST_DEPENDENT}
    assert got == want
    for finding in result.findings:
        assert finding.evidence, finding.rule.id
        assert finding.fix, finding.rule.id


def test_careless_evidence_names_what_decided(careless_host: AuditedHost) -> None:
    findings = {(_key(f)): f for f in audit(careless_host).findings}
    assert findings[("2.3", "host")].evidence == 'daemon.json log-level="debug"'
    assert findings[("2.4", "host")].evidence == "--iptables=false"
    assert "SYS_ADMIN" in findings[("5.4", "wild")].evidence
    assert "/etc:/host-etc:rw" in findings[("5.6", "wild")].evidence
    assert "/usr/sbin/sshd" in findings[("5.7", "ssh")].evidence
    assert "*:80->80/tcp" in findings[("5.8", "ports")].evidence
    assert "127.0.0.1:8080" not in findings[("5.14", "ports")].evidence
    assert findings[("5.32", "wild")].evidence.startswith("docker.sock mounted: ")
    assert "--bridge=none" in findings[("2.2", "host")].evidence


def test_hardened_evidence(hardened_host: AuditedHost) -> None:
    findings = {(_key(f)): f for f in audit(hardened_host).findings}
    assert findings[("2.9", "host")].evidence == 'daemon.json userns-remap="default"'
    assert findings[("2.13", "host")].evidence == "log driver gelf"
    assert findings[("5.26", "good1")].evidence == "daemon-wide: daemon.json no-new-privileges=true"
    # with user namespace remapping the data root is the parent of the remapped one
    data_root = f"{hardened_host.env.state_dir}/docker-data is"
    assert findings[("1.1.1", "host")].evidence.startswith(data_root)


def test_running_only_by_default(careless_host: AuditedHost) -> None:
    result = audit_host(AuditOptions(collect=CollectOptions(endpoint=careless_host.endpoint)))
    names = {f.resource.name for f in result.findings if f.resource.kind == "container"}
    assert names == {"wild", "ssh"}
    assert result.inventory["containers_running"] == 2
    assert result.inventory["containers_stopped"] == 2


def test_inventory(careless_host: AuditedHost) -> None:
    inventory = audit(careless_host).inventory
    assert inventory["engine"] == "docker"
    assert inventory["docker_version"].startswith("20.10")
    assert inventory["containerd_version"]
    assert inventory["kernel"] and inventory["os"]
    assert inventory["images"] == 1
    assert inventory["unmanaged_containers"] == sorted(CARELESS)
    assert inventory["daemon_config_file"].endswith("-c/daemon.json")


def test_selection_by_id_and_section(careless_host: AuditedHost) -> None:
    result = audit(careless_host, checks=("2", "5.5"), skip=("2.1",))
    ids = {f.rule.id for f in result.findings}
    assert ids == {f"2.{n}" for n in range(2, 19)} | {"5.5"}


def test_score_counts_scored_checks(careless_host: AuditedHost, hardened_host) -> None:
    careless, hardened = audit(careless_host).score, audit(hardened_host).score
    assert careless["percent"] < hardened["percent"]
    assert careless["failed"] > hardened["failed"]


def test_malformed_daemon_json_errors_only_what_needs_it(careless_host: AuditedHost) -> None:
    config = Path(careless_host.env.state_dir) / "daemon.json"
    original = config.read_text()
    config.write_text('{"icc": false,,}')
    try:
        findings = {_key(f): f for f in audit(careless_host, checks=("2", "5.5")).findings}
    finally:
        config.write_text(original)
    icc = findings[("2.2", "host")]
    assert icc.status.value == E
    assert "daemon.json is unusable: invalid JSON" in icc.evidence
    assert findings[("2.4", "host")].status.value == F  # --iptables=false: on the command line
    assert findings[("2.6", "host")].status.value == P  # from docker info
    assert findings[("5.5", "priv")].status.value == F


def test_unreachable_daemon_still_assesses_host_files(tmp_path: Path) -> None:
    result = audit_host(
        AuditOptions(collect=CollectOptions(endpoint=f"unix://{tmp_path}/none.sock"))
    )
    by_id = {f.rule.id: f for f in result.findings}
    assert by_id["2.6"].status.value == E
    assert "cannot reach the Docker daemon" in by_id["2.6"].evidence
    assert by_id["5.5"].status.value == E
    assert by_id["1.1.2"].status.value in (P, I)
    assert result.assessed
    assert "error" in result.inventory


def test_vanished_container_reports_error(careless_host: AuditedHost) -> None:
    import docker

    from seawall.hardening.docker import collect as collecting
    from seawall.hardening.docker.audit import run_checks

    facts = collecting.collect(CollectOptions(endpoint=careless_host.endpoint))
    careless_host.env.docker("run", "-d", "--name", "gone", careless_host.image)
    container_id = careless_host.env.docker("inspect", "-f", "{{.Id}}", "gone").strip()
    careless_host.env.docker("rm", "-f", "gone")
    client = docker.APIClient(base_url=careless_host.endpoint)
    try:
        vanished = collecting._container(client, {"Id": container_id, "Names": ["/gone"]})
    finally:
        client.close()
    assert vanished.error.startswith("vanished during the scan")
    facts.containers.append(vanished)
    findings = [f for f in run_checks(facts, ["5.5", "5.7"]) if f.resource.name == "gone"]
    assert [f.status.value for f in findings] == [E, E]
    assert all("vanished" in f.evidence for f in findings)


def test_podman_and_rootless_mark_what_does_not_apply(careless_host: AuditedHost) -> None:
    from seawall.hardening.docker import collect as collecting
    from seawall.hardening.docker.audit import run_checks

    facts = collecting.collect(CollectOptions(endpoint=careless_host.endpoint))
    facts.version = {**facts.version, "Components": [{"Name": "Podman Engine"}]}
    by_id = {f.rule.id: f for f in run_checks(facts, ["2.2", "3.5", "2.6"])}
    assert by_id["2.2"].status.value == NA and "Podman" in by_id["2.2"].evidence
    assert by_id["3.5"].status.value == NA
    assert by_id["2.6"].status.value == P
    facts.version = {**facts.version, "Components": []}
    facts.info = {**facts.info, "SecurityOptions": ["name=seccomp", "name=rootless"]}
    by_id = {f.rule.id: f for f in run_checks(facts, ["2.1", "2.9", "3.5", "2.2"])}
    assert by_id["2.1"].status.value == P
    assert by_id["2.9"].status.value == P
    assert by_id["3.5"].status.value == NA and "rootless" in by_id["3.5"].evidence
    assert by_id["2.2"].status.value == F


def test_trusted_users(careless_host: AuditedHost, tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "group").write_text("root:x:0:\ndocker:x:999:alice,mallory\n")
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\nbob:x:1000:999::/:/bin/sh\n")

    def status(*trusted: str) -> tuple[str, str]:
        options = CollectOptions(endpoint=careless_host.endpoint, root=root,
                                 trusted_users=trusted)  # fmt: skip
        (finding,) = audit_host(AuditOptions(collect=options, checks=("1.1.2",))).findings
        return finding.status.value, finding.evidence

    assert status() == (I, "docker group members: alice, bob, mallory (give --trusted-users)")
    assert status("alice", "bob") == (F, "untrusted docker group members: mallory")
    assert status("alice", "bob", "mallory")[0] == P


def test_json_report_round_trips(careless_host: AuditedHost) -> None:
    from seawall.contract import decode, encode_pretty
    from seawall.report.envelope.host import host_envelope

    result = audit(careless_host)
    envelope = decode(encode_pretty(host_envelope(result)).encode())
    assert len(envelope.results) == len(result.findings)
    assert len({r.fingerprint for r in envelope.results}) == len(result.findings)
    assert {r.status for r in envelope.results} >= {Status.PASS, Status.FAIL}
