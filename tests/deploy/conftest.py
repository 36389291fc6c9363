"""Rendering of the Kubernetes deployment (deploy/kubernetes) for the deploy tests.

Every overlay is rendered once per session with the real ``kubectl kustomize``; a missing
kubectl fails the tests with a clear message instead of skipping them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
KUSTOMIZE_ROOT = REPO / "deploy" / "kubernetes"
DOCS = REPO / "docs" / "deployment.md"

# What users apply (docs/deployment.md), and the base they build on.
OVERLAYS = ("base", "overlays/embedded", "overlays/production", "overlays/evaluation")
# Components no overlay of ours includes, rendered on top of production in a temporary
# overlay so that they are validated too.
EXTRA_COMPONENTS = {"production+admission-enforce": ("overlays/production", "admission-enforce")}
RENDERS = (*OVERLAYS, *EXTRA_COMPONENTS)


def kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        pytest.fail(
            "kubectl is not on PATH: the deploy tests render deploy/kubernetes with "
            "`kubectl kustomize` (kubectl >= 1.27, no cluster needed); install kubectl",
            pytrace=False,
        )
    return path


def kustomize(directory: Path) -> str:
    proc = subprocess.run(
        [kubectl(), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"kubectl kustomize {directory} failed:\n{proc.stderr}", pytrace=False)
    return proc.stdout


def render(name: str, tmp_root: Path) -> str:
    if name in EXTRA_COMPONENTS:
        overlay, component = EXTRA_COMPONENTS[name]
        directory = tmp_root / name
        directory.mkdir(parents=True, exist_ok=True)
        kustomization = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [os.path.relpath(KUSTOMIZE_ROOT / overlay, directory)],
            "components": [os.path.relpath(KUSTOMIZE_ROOT / "components" / component, directory)],
        }
        (directory / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
        return kustomize(directory)
    return kustomize(KUSTOMIZE_ROOT / name)


class Rendered:
    """One overlay's output: its YAML text and its objects."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self.objects: list[dict[str, Any]] = [d for d in yaml.safe_load_all(text) if d]

    def of_kind(self, *kinds: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] in kinds]

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        for obj in self.objects:
            if obj["kind"] == kind and obj["metadata"]["name"] == name:
                return obj
        return None

    def names(self, kind: str) -> set[str]:
        return {o["metadata"]["name"] for o in self.of_kind(kind)}

    def workloads(self) -> list[dict[str, Any]]:
        return self.of_kind("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"].get("labels", {})


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


@pytest.fixture(scope="session")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    tmp_root = tmp_path_factory.mktemp("kustomize")
    return {name: Rendered(name, render(name, tmp_root)) for name in RENDERS}


@pytest.fixture(scope="session")
def rendered_files(
    renders: dict[str, Rendered], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Each render written to a file (for `seawall k8s scan`)."""
    out = tmp_path_factory.mktemp("rendered")
    files = {}
    for name, rendered in renders.items():
        path = out / (name.replace("/", "_").replace("+", "_") + ".yaml")
        path.write_text(rendered.text)
        files[name] = path
    return files
