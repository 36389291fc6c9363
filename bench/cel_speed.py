"""CEL (K8sNativeValidation) evaluation time per object: the Gatekeeper library's CEL
templates in tests/fixtures/policy/gatekeeper (privileged containers, host namespaces,
required labels) on a pod of 5 containers, in this process (no worker round trip), as the
webhook's worker runs them. Prints the median and p99 per template and per object (all
three templates); the target is 1 ms per object at p99. Prints figures only; exits 0.

    .venv/bin/python bench/cel_speed.py [--runs 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from seawall.policy.gatekeeper.cel import CelProgram  # noqa: E402
from seawall.safety.yaml import load_yaml  # noqa: E402

GATEKEEPER = REPO / "tests" / "fixtures" / "policy" / "gatekeeper"
TEMPLATES = [
    "pod-security-policy/privileged-containers",
    "pod-security-policy/host-namespaces",
    "general/requiredlabels",
]
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "bench", "namespace": "shop", "labels": {"app": "bench", "owner": "me"}},
    "spec": {
        "hostPID": False,
        "containers": [
            {"name": f"c{i}", "image": f"registry.example.com/shop/app{i}:1.{i}",
             "securityContext": {"privileged": False, "runAsNonRoot": True}}
            for i in range(5)
        ],
    },
}  # fmt: skip


def program(name: str) -> tuple[CelProgram, dict]:
    directory = GATEKEEPER / name
    (template,) = load_yaml((directory / "template.yaml").read_text())
    code = next(c for c in template["spec"]["targets"][0]["code"]
                if c["engine"] == "K8sNativeValidation")  # fmt: skip
    constraint = next(
        d for path in sorted((directory / "samples").rglob("constraint*.yaml"))
        for d in load_yaml(path.read_text()) if d
    )  # fmt: skip
    return CelProgram(code["source"], name), constraint


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    programs = {name: program(name) for name in TEMPLATES}
    request = {"operation": "CREATE", "namespace": "shop", "name": "bench"}
    per_object: list[float] = []
    per_template: dict[str, list[float]] = {name: [] for name in TEMPLATES}
    for _ in range(args.runs):
        total = 0.0
        for name, (compiled, constraint) in programs.items():
            start = time.perf_counter()
            compiled.violations(POD, None, request, constraint)
            elapsed = time.perf_counter() - start
            per_template[name].append(elapsed)
            total += elapsed
        per_object.append(total)
    for name, times in per_template.items():
        print(f"{name:45s} median {statistics.median(times) * 1e6:7.1f} us, "
              f"p99 {p99(times) * 1e6:7.1f} us")  # fmt: skip
    print(f"{'per object (all three)':45s} median {statistics.median(per_object) * 1e6:7.1f} us, "
          f"p99 {p99(per_object) * 1e6:7.1f} us (target: 1,000 us at p99)")  # fmt: skip


if __name__ == "__main__":
    main()
