"""How long `seawall k8s node-audit` takes on a kubeadm control-plane node (target: 0.5 s).

Builds the test suite's kubeadm node filesystems (tests/fixtures/k8s-node: as installed,
careless, hardened; each with its proc tree, and once without it, as a mounted disk) in a
temporary directory, then times, for each: the audit in-process (collecting every fact and
running the 97 checks of sections 1-4, a fresh collection each run), and the whole command
as a user runs it (`python -m seawall k8s node-audit --root ... -f json`, interpreter start-up
included). Prints medians of RUNS runs and the peak memory of the command. Never fails.

kube-bench is not in Debian's archive and cannot be downloaded on these machines, so its
time on the same node is not measured here.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from tests.hardening import k8s_nodes  # noqa: E402

from seawall.hardening.kubernetes.audit import NodeAuditOptions, audit_node  # noqa: E402
from seawall.hardening.kubernetes.collect import NodeOptions  # noqa: E402

RUNS = 9
TARGET_SECONDS = 0.5
LAYOUTS: dict[str, Callable[[Path], k8s_nodes.NodeTree]] = {
    "kubeadm, running": k8s_nodes.kubeadm_node,
    "kubeadm, disk only": lambda d: k8s_nodes.kubeadm_node(d, running=False),
    "kubeadm careless": lambda d: k8s_nodes.careless(k8s_nodes.kubeadm_node(d)),
    "kubeadm hardened": lambda d: k8s_nodes.hardened(k8s_nodes.kubeadm_node(d)),
}


def in_process(root: Path) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        audit_node(NodeAuditOptions(node=NodeOptions(root=root)))
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def command(root: Path) -> tuple[float, float]:
    """Median wall time of the CLI and its peak RSS in MiB."""
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "seawall", "k8s", "node-audit", "--root",
                        str(root), "-f", "json", "-o", "/dev/null"], check=False)  # fmt: skip
        times.append(time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return statistics.median(times), peak


def main() -> None:
    print(f"target: a full node audit in at most {TARGET_SECONDS} s; medians of {RUNS} runs")
    print(f"{'node':<22} {'audit (in process)':>19} {'command (wall)':>15} {'peak RSS':>9}")
    with tempfile.TemporaryDirectory() as scratch:
        for name, build in LAYOUTS.items():
            tree = build(Path(scratch) / name.replace(" ", "-").replace(",", ""))
            audit_time = in_process(tree.root)
            wall, peak = command(tree.root)
            print(f"{name:<22} {audit_time * 1000:>16.1f} ms {wall * 1000:>12.0f} ms "
                  f"{peak:>6.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
