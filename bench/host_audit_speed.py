"""How long `seawall host audit` takes on a host with 50 running containers (target: 3 s).

Starts a private Docker Engine with scripts/testenv (state dir $SEAWALL_TESTENV, default
/tmp/sw-bench-host), runs 50 busybox containers, times the whole audit (collection of every
fact plus all 117 checks, --include-stopped) five times and prints the figures. The engine is
stopped at the end unless SEAWALL_TESTENV_KEEP=1. Never fails: it reports.

docker-bench-security, the reference shell implementation, is not in Debian's archive and
cannot be downloaded on these machines, so only Seawall's figures are printed.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from tests.support.testenv import SeawallTestEnv  # noqa: E402

from seawall.hardening.docker.audit import AuditOptions, audit_host  # noqa: E402
from seawall.hardening.docker.collect import CollectOptions  # noqa: E402

CONTAINERS = 50
RUNS = 5
TARGET_SECONDS = 3.0


def _script(name: str, state: str) -> None:
    subprocess.run([str(REPO / "scripts" / "testenv" / name)], check=True,
                   env={**os.environ, "SEAWALL_TESTENV": state}, capture_output=True)  # fmt: skip


def _docker_bench_available() -> str:
    if shutil.which("docker-bench-security"):
        return "installed"
    policy = subprocess.run(["apt-cache", "policy", "docker-bench-security"],
                            capture_output=True, text=True, check=False)  # fmt: skip
    return "in Debian's archive" if "Candidate:" in policy.stdout else "not obtainable"


def main() -> None:
    state = os.environ.get("SEAWALL_TESTENV", "/tmp/sw-bench-host")
    _script("up", state)
    env = SeawallTestEnv.from_env_file(Path(state) / "env")
    try:
        with tempfile.TemporaryDirectory() as context:
            shutil.copy("/bin/busybox", Path(context) / "busybox")
            (Path(context) / "Dockerfile").write_text(
                'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "sleep", "3600"]\n'
            )
            env.docker("build", "--quiet", "--network", "none", "-t", "bench/sleep", context)
        running = env.docker("ps", "-q").split()
        for index in range(len(running), CONTAINERS):
            env.docker("run", "-d", "--name", f"bench-{index}", "--memory", "32m",
                       "bench/sleep")  # fmt: skip
        options = AuditOptions(
            collect=CollectOptions(endpoint=env.docker_host, include_stopped=True)
        )
        timings, findings = [], 0
        for _ in range(RUNS):
            start = time.perf_counter()
            result = audit_host(options)
            timings.append(time.perf_counter() - start)
            findings = len(result.findings)
        print(f"seawall host audit, {CONTAINERS} running containers, 117 checks, "
              f"{findings} results")  # fmt: skip
        median = statistics.median(timings)
        verdict = "met" if median <= TARGET_SECONDS else "MISSED"
        print(
            f"  wall time over {RUNS} runs: min {min(timings):.2f} s, median {median:.2f} s, "
            f"max {max(timings):.2f} s (target {TARGET_SECONDS:.0f} s: {verdict})"
        )
        print(
            f"docker-bench-security: {_docker_bench_available()} here; "
            "no comparison figure (only Seawall's is reported)"
        )
    finally:
        if os.environ.get("SEAWALL_TESTENV_KEEP") != "1":
            _script("down", state)


if __name__ == "__main__":
    main()
