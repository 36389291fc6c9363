"""Run the real tools as oracles: corpora, pair selection, one batched process per tool."""

from __future__ import annotations

import itertools
import os
import random
import shutil
import subprocess
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from seawall.vulndb.versions import InvalidVersion

HERE = Path(__file__).resolve().parent
ORACLES = HERE / "oracles"
CORPORA = HERE.parents[1] / "fixtures" / "versions"
MAVEN_JAR = Path("/usr/share/java/maven3-artifact.jar")  # Debian libmaven3-core-java

Pair = tuple[str, str]


def corpus(name: str) -> list[str]:
    """The version strings of ``tests/fixtures/versions/<name>.txt``."""
    return (CORPORA / f"{name}.txt").read_text().splitlines()


def fuzz(alphabet: str, count: int, seed: int, longest: int = 12) -> list[str]:
    """Deterministic random strings over ``alphabet``, starting with a digit."""
    rng = random.Random(seed)
    return [
        rng.choice("0123456789") + "".join(rng.choices(alphabet, k=rng.randint(0, longest)))
        for _ in range(count)
    ]


def accepted(versions: Iterable[str], key: Callable[[str], Any]) -> list[str]:
    """The distinct versions ``key`` accepts, in a stable order."""
    out = []
    for v in dict.fromkeys(versions):
        try:
            key(v)
        except InvalidVersion:
            continue
        out.append(v)
    return out


def pairs(versions: Sequence[str], key: Callable[[str], Any], extra: int, seed: int) -> list[Pair]:
    """Neighbours in our order (which pins the order down) plus ``extra`` random pairs."""
    ordered = sorted(versions, key=key)
    rng = random.Random(seed)
    chosen = list(itertools.pairwise(ordered))
    chosen += [(rng.choice(versions), rng.choice(versions)) for _ in range(extra)]
    return chosen


def sign(key: Callable[[str], Any], a: str, b: str) -> int:
    ka, kb = key(a), key(b)
    return (ka > kb) - (ka < kb)


def disagreements(
    key: Callable[[str], Any], checked: Sequence[Pair], answers: Sequence[str]
) -> list[tuple[str, str, int, str]]:
    """The pairs where our order and the tool's differ: (a, b, ours, theirs)."""
    assert len(answers) == len(checked), "the oracle answered a different number of pairs"
    out = []
    for (a, b), theirs in zip(checked, answers, strict=True):
        ours = sign(key, a, b)
        if str(ours) != theirs.strip():
            out.append((a, b, ours, theirs))
    return out


def _tool(name: str, apt: str) -> str:
    path = shutil.which(name)
    assert path, f"oracle tool {name!r} is missing: install the Debian package {apt}"
    return path


def run(command: list[str], lines: Iterable[str], env: dict[str, str] | None = None) -> list[str]:
    """Feed ``lines`` to one process; its output lines."""
    text = "".join(line + "\n" for line in lines)
    done = subprocess.run(
        command,
        input=text,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, f"{command[0]} failed: {done.stderr[-2000:]}"
    return done.stdout.splitlines()


def ask(tool: str, queries: Sequence[Pair] | Sequence[str]) -> list[str]:
    """Ask one oracle about pairs ("a<TAB>b") or single versions (validity)."""
    lines = ["\t".join(q) if isinstance(q, tuple) else q for q in queries]
    if tool == "apt":
        return run(["/usr/bin/python3", str(ORACLES / "apt_compare.py")], lines)
    if tool == "dpkg":
        return run(["sh", str(ORACLES / "dpkg_compare.sh")], lines)
    if tool == "rpm":
        return run(["/usr/bin/python3", str(ORACLES / "rpm_compare.py")], lines)
    if tool == "node-semver":
        env = {"NODE_PATH": "/usr/share/nodejs"}
        return run([_tool("node", "nodejs"), str(ORACLES / "semver.js")], lines, env)
    if tool == "go":
        env = {
            "GO111MODULE": "off",
            "GOPATH": "/usr/share/gocode",
            "GOCACHE": str(Path(os.environ.get("TMPDIR", "/tmp")) / "seawall-go-cache"),
            "GOFLAGS": "",
        }
        return run([_tool("go", "golang-go"), "run", str(ORACLES / "gosemver.go")], lines, env)
    if tool == "maven":
        assert MAVEN_JAR.exists(), "install the Debian package libmaven3-core-java"
        java = _tool("java", "default-jdk-headless")  # runs a .java source: needs javac
        return run([java, "-cp", str(MAVEN_JAR), str(ORACLES / "MavenOracle.java")], lines)
    if tool == "ruby":
        return run([_tool("ruby", "ruby"), str(ORACLES / "gem.rb")], lines)
    if tool == "composer":
        return run([_tool("php", "php-cli"), str(ORACLES / "composer.php")], lines)
    raise ValueError(tool)
