"""Runtime detection speed and memory: Kubernetes audit events through the full built-in pack.

Builds a recorded stream of realistic audit events (mostly benign: kubelet and controller
gets, lists, watches and lease updates, Metadata-level secret reads, a few pod and
deployment creates; about 1% attacks taken from the real samples in tests/fixtures), then:

* throughput: decode + evaluate every event on one core, as fast as possible;
* soak: sustain --rate events per second for --soak-seconds (default 600: ten minutes) and
  sample the resident memory every few seconds, to show it stays flat.

Prints its figures; never fails. Usage:

    .venv/bin/python bench/runtime_throughput.py [--events N] [--soak-seconds S] [--rate R]
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import random
import time
from pathlib import Path

from seawall.runtime.alerts import AlertFolder, Detector
from seawall.runtime.rules.loader import RuleSet, load_rules
from seawall.runtime.sources.k8s_audit import AuditParser

SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "runtime" / "k8s-audit"
ATTACKS = [
    "create_nginx_pod_privileged.json",
    "create_nginx_pod_sensitive_mount.json",
    "attach_cluster_admin_role.json",
    "create_cluster_role_wildcard_verbs.json",
    "exec_pod.json",
    "anonymous_creates_namespace_foo.json",
]
BENIGN_BODIES = [
    "create_nginx_pod_unprivileged.json",
    "create_deployment.json",
    "create_clusterrolebinding.json",
]


def _load(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text().splitlines()[0])


def _metadata_event(rng: random.Random, i: int) -> dict:
    verb, resource = rng.choice(
        [("get", "pods"), ("list", "pods"), ("watch", "configmaps"), ("get", "nodes"),
         ("update", "leases"), ("get", "leases"), ("list", "endpoints"), ("get", "secrets"),
         ("watch", "services"), ("patch", "nodes"), ("get", "configmaps"), ("list", "events")]
    )  # fmt: skip
    node = f"node-{rng.randrange(200)}"
    user = rng.choice(
        [f"system:node:{node}", "system:kube-controller-manager", "system:kube-scheduler",
         "system:serviceaccount:kube-system:coredns", "system:apiserver"]
    )  # fmt: skip
    ns = rng.choice(["default", "kube-system", "prod", "staging", "monitoring"])
    name = f"{resource[:-1]}-{rng.randrange(5000)}"
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": f"{i:08x}-0000-4000-8000-{rng.randrange(1 << 48):012x}",
        "stage": "ResponseComplete",
        "requestURI": f"/api/v1/namespaces/{ns}/{resource}/{name}",
        "verb": verb,
        "user": {"username": user, "groups": ["system:nodes", "system:authenticated"]},
        "sourceIPs": [f"10.0.{rng.randrange(256)}.{rng.randrange(256)}"],
        "userAgent": "kubelet/v1.30.2 (linux/amd64) kubernetes/3968350",
        "objectRef": {"resource": resource, "namespace": ns, "name": name, "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": 200},
        "requestReceivedTimestamp": "2024-11-22T08:00:00.000000Z",
        "stageTimestamp": "2024-11-22T08:00:00.002000Z",
        "annotations": {
            "authorization.k8s.io/decision": "allow",
            "authorization.k8s.io/reason": "",
        },
    }


def build_stream(count: int, seed: int = 7) -> list[bytes]:
    """``count`` JSON lines: ~90% Metadata-level benign, ~9% benign with bodies, ~1% attacks."""
    rng = random.Random(seed)
    attacks = [_load(n) for n in ATTACKS]
    bodies = [_load(n) for n in BENIGN_BODIES]
    lines = []
    for i in range(count):
        roll = rng.random()
        if roll < 0.01:
            event = copy.deepcopy(rng.choice(attacks))
            event["auditID"] = f"attack-{i}"
        elif roll < 0.10:
            event = copy.deepcopy(rng.choice(bodies))
            event["auditID"] = f"body-{i}"
        else:
            event = _metadata_event(rng, i)
        lines.append(json.dumps(event, separators=(",", ":")).encode())
    return lines


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def throughput(lines: list[bytes], rules: RuleSet) -> tuple[float, float, int, int]:
    """(events per CPU second, events per wall second, events, alerts): CPU time is what
    one core spends, whatever else the machine runs; wall time shows the contention."""
    parser = AuditParser()
    detector = Detector(rules, AlertFolder(60))
    alerts = 0
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    for line in lines:
        for event in parser.parse(line):
            alerts += len(detector.process(event))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return len(lines) / cpu, len(lines) / wall, detector.events, alerts


def soak(
    lines: list[bytes], rules: RuleSet, seconds: float, rate: int
) -> list[tuple[float, float]]:
    parser = AuditParser()
    detector = Detector(rules, AlertFolder(60))
    samples: list[tuple[float, float]] = [(0.0, rss_mb())]
    start = time.perf_counter()
    sent = 0
    next_sample = 10.0 if seconds >= 60 else max(1.0, seconds / 6)
    step = next_sample
    while (elapsed := time.perf_counter() - start) < seconds:
        due = int(elapsed * rate)
        while sent < due:
            for event in parser.parse(lines[sent % len(lines)]):
                detector.process(event)
            sent += 1
        detector.folder.expire(time.time())
        if elapsed >= next_sample:
            samples.append((elapsed, rss_mb()))
            next_sample += step
        time.sleep(0.005)
    samples.append((time.perf_counter() - start, rss_mb()))
    print(f"  soak: {sent} events in {samples[-1][0]:.0f} s ({sent / samples[-1][0]:.0f}/s)")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--soak-seconds", type=float, default=600.0)
    parser.add_argument("--rate", type=int, default=5000)
    args = parser.parse_args()

    rules = load_rules()
    print(
        f"rules: {len(rules.rules)} built-in ("
        + ", ".join(f"{k} {len(v.rules)}" for k, v in rules.indexes.items())
        + ")"
    )
    lines = build_stream(args.events)
    size = sum(len(x) for x in lines) / len(lines)
    print(f"stream: {len(lines)} audit events, mean {size:.0f} bytes per event")
    rate, wall_rate, events, alerts = throughput(lines, rules)
    print(
        f"throughput: {rate:,.0f} events per CPU second on one core, {wall_rate:,.0f} per wall "
        f"second ({events} events, {alerts} alerts after folding)"
    )
    print(f"  target: 50,000 events/s -> {'met' if rate >= 50_000 else 'NOT met'}")
    if args.soak_seconds <= 0:
        return
    print(f"soak: {args.rate} events/s for {args.soak_seconds:.0f} s (RSS MiB by time)")
    samples = soak(lines, rules, args.soak_seconds, args.rate)
    print("  " + ", ".join(f"{t:.0f}s={m:.1f}" for t, m in samples))
    settled = [m for t, m in samples if t >= min(30.0, args.soak_seconds / 3)]
    if settled:
        print(f"  growth after warm-up: {settled[-1] - settled[0]:+.1f} MiB")


if __name__ == "__main__":
    main()
