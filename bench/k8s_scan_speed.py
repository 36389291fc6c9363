#!/usr/bin/env python3
"""Scan speed: ``seawall k8s scan`` on 10,000 manifests (target: at most 10 s).

The manifests are the built-in policy fixtures and the workloads fixture, cycled and renamed
until there are --count of them, written as multi-document YAML files of --per-file
documents. The command runs as an operator runs it (a new process, JSON report to a file);
the wall time includes start-up. An in-process breakdown (parse, evaluate) follows.
Never fails: exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "policy"
sys.path.insert(0, str(ROOT / "src"))

from seawall.policy.engine import PolicyEngine  # noqa: E402
from seawall.policy.manifests import load_manifests  # noqa: E402


def write_manifests(directory: Path, count: int, per_file: int) -> None:
    sources = [
        dict(o.raw)
        for o in load_manifests([str(FIXTURES / "builtin"), str(FIXTURES / "workloads.yaml")])
    ]
    documents = []
    for i in range(count):
        raw = yaml.safe_load(yaml.safe_dump(sources[i % len(sources)]))
        raw["metadata"]["name"] = f"{raw['metadata']['name']}-{i}"
        documents.append(raw)
    for start in range(0, count, per_file):
        text = yaml.safe_dump_all(documents[start : start + per_file], sort_keys=False)
        (directory / f"manifests-{start // per_file:04d}.yaml").write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--per-file", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp) / "manifests"
        directory.mkdir()
        write_manifests(directory, args.count, args.per_file)
        size = sum(p.stat().st_size for p in directory.iterdir())
        print(
            f"{args.count} manifests in {len(list(directory.iterdir()))} files, {size / 1e6:.1f} MB"
        )
        started = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "seawall",
                "k8s",
                "scan",
                str(directory),
                "-f",
                "json",
                "-o",
                str(Path(temp) / "report.json"),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        wall = time.perf_counter() - started
        status = "ok" if wall <= 10 else "MISSED"
        print(
            f"seawall k8s scan (new process, JSON report): {wall:.2f} s  target 10 s {status}"
            + (f"  exit {result.returncode}: {result.stderr.strip()}" if result.returncode else "")
        )
        started = time.perf_counter()
        objects = load_manifests([str(directory)])
        parsed = time.perf_counter() - started
        engine = PolicyEngine()
        started = time.perf_counter()
        findings = engine.findings(objects)
        evaluated = time.perf_counter() - started
        print(
            f"in process: parse {parsed:.2f} s, evaluate {evaluated:.2f} s "
            f"({evaluated / len(objects) * 1e6:.0f} us per object), {len(findings)} findings"
        )


if __name__ == "__main__":
    main()
