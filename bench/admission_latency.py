#!/usr/bin/env python3
"""Admission latency: ``seawall admission serve`` in one process, this load generator in
another, real AdmissionReviews over HTTPS (TLS verified) at a fixed rate.

Two runs: the built-in policies alone (target p99 <= 5 ms) and the built-ins plus the five
Gatekeeper library templates of tests/fixtures/policy/gatekeeper with their constraints
(target p99 <= 20 ms). The load is open-loop: each of --connections keep-alive connections
sends on its own schedule, so a slow answer shows up as latency, not as a lower rate.
Prints p50/p90/p99/max per run. Never fails: exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "policy"
sys.path.insert(0, str(ROOT / "src"))

from seawall.admission.certs import issue  # noqa: E402
from seawall.policy.manifests import load_manifests  # noqa: E402


def reviews() -> list[bytes]:
    bodies = []
    for obj in load_manifests([str(FIXTURES / "builtin"), str(FIXTURES / "workloads.yaml")]):
        bodies.append(
            json.dumps(
                {
                    "apiVersion": "admission.k8s.io/v1",
                    "kind": "AdmissionReview",
                    "request": {
                        "uid": str(uuid.uuid4()),
                        "kind": {"group": obj.group, "version": "v1", "kind": obj.kind},
                        "operation": "CREATE",
                        "namespace": obj.namespace,
                        "object": dict(obj.raw),
                    },
                }
            ).encode()
        )
    return bodies


def start_server(work: Path, extra: list[str]) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seawall",
            "admission",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--cert",
            str(work / "tls.crt"),
            "--key",
            str(work / "tls.key"),
            "--decision-log",
            str(work / "decisions.jsonl"),
            *extra,
        ],
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    if "listening" not in line:
        raise SystemExit(f"server did not start: {line}{process.stderr.read()}")
    return process, int(line.rsplit(":", 1)[1])


def load(port: int, ca: Path, rate: float, seconds: float, connections: int) -> list[float]:
    bodies = reviews()
    latencies: list[float] = []
    lock = threading.Lock()
    context = ssl.create_default_context(cafile=str(ca))

    def worker(offset: int) -> None:
        interval = connections / rate
        mine: list[float] = []
        # The stdlib client: httpx costs about a millisecond of CPU per request, which on a
        # small machine competes with the server and shows up in its latency.
        connection = http.client.HTTPSConnection("localhost", port, context=context, timeout=10)
        headers = {"Content-Type": "application/json"}

        def send(body: bytes) -> None:
            connection.request("POST", "/validate", body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            if response.status != 200:
                raise SystemExit(f"HTTP {response.status}: {data[:200]!r}")

        for i in range(5):  # warm up the connection and the server's caches
            send(bodies[i])
        start = time.perf_counter() + offset * interval / connections
        n = 0
        while True:
            due = start + n * interval
            if due - start > seconds:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            send(bodies[(offset + n * connections) % len(bodies)])
            mine.append(time.perf_counter() - sent)
            n += 1
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    gatekeeper = FIXTURES / "gatekeeper"
    policies = [str(p) for p in sorted(gatekeeper.glob("*/*/template.yaml"))]
    policies += [str(p) for p in sorted(gatekeeper.glob("*/*/samples/*/constraint.yaml"))]
    # Two constraints of one kind need distinct names: the library reuses one across samples.
    runs = [
        ("built-in policies", [], 0.005),
        (
            "built-in + 5 Rego templates",
            [a for p in policies if "container-ignore-cpu" not in p for a in ("--policy", p)],
            0.020,
        ),
    ]
    print(
        f"admission latency over HTTPS, {args.rate:.0f} req/s for {args.seconds:.0f} s, "
        f"{args.connections} keep-alive connections, load generator in a separate process"
    )
    print(
        f"{'policies':32} {'requests':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'target':>8}"
    )
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        certs = issue(["localhost"])
        (work / "ca.crt").write_bytes(certs.ca_cert)
        (work / "tls.crt").write_bytes(certs.cert)
        (work / "tls.key").write_bytes(certs.key)
        for name, extra, target in runs:
            process, port = start_server(work, extra)
            try:
                latencies = load(port, work / "ca.crt", args.rate, args.seconds, args.connections)
            finally:
                process.terminate()
                process.wait(timeout=10)
            p99 = percentile(latencies, 0.99)
            verdict = "ok" if p99 <= target else "MISSED"
            print(
                f"{name:32} {len(latencies):8d} {percentile(latencies, 0.5) * 1000:8.2f} "
                f"{percentile(latencies, 0.9) * 1000:8.2f} {p99 * 1000:8.2f} "
                f"{max(latencies) * 1000:8.2f} {target * 1000:5.0f} ms {verdict}"
            )
            print(f"{'':32} mean {statistics.fmean(latencies) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
