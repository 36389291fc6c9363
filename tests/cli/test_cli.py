"""The command line: help for every command, version, demo image, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo-image.tar.gz"


def seawall(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seawall", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["sbom"],
        ["sbom", "match"],
        ["version"],
        ["image", "scan"],
        ["db"],
        ["db", "update"],
        ["db", "import"],
        ["db", "status"],
        ["db", "export"],
        ["host", "audit"],
        ["k8s", "scan"],
        ["policy", "verify"],
        ["admission", "serve"],
        ["admission", "install"],
        ["runtime"],
        ["runtime", "watch"],
        ["runtime", "replay"],
        ["runtime", "simulate"],
    ],
)
def test_help_works_for_every_command(command: list[str]) -> None:
    result = seawall(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_version() -> None:
    assert seawall("version").stdout.startswith("seawall ")


def test_readme_quick_start_command(tmp_path: Path) -> None:
    result = seawall("sbom", str(DEMO), "--cache-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "debian 12" in result.stdout
    assert "commons-cli:commons-cli" in result.stdout


def test_output_file_and_format(tmp_path: Path) -> None:
    out = tmp_path / "sbom.cdx.json"
    result = seawall("sbom", str(DEMO), "--no-cache", "-f", "cyclonedx", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(out.read_text())["bomFormat"] == "CycloneDX"


def test_missing_file_is_a_clear_input_error(tmp_path: Path) -> None:
    result = seawall("sbom", str(tmp_path / "nope.tar"))
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr


def test_unknown_platform_in_a_single_image_is_fine_but_a_bad_one_is_refused() -> None:
    result = seawall("sbom", str(DEMO), "--no-cache", "--platform", "linux")
    assert result.returncode == 2
    assert "invalid platform" in result.stderr


def test_a_scan_writes_nothing_outside_its_temporary_files(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "seawall", "sbom", str(DEMO), "--no-cache", "-f", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=work,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert list(home.iterdir()) == [] and list(work.iterdir()) == []
    assert list((tmp_path / "tmp").iterdir()) == []  # temporary files are cleaned up too


def test_the_entry_point_hands_its_early_digests_to_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from seawall.cli import entry
    from seawall.image.digests import DigestPrefetcher
    from tests.support.imagebuild import Layer, write_docker_archive
    from tests.support.sample import sample_image

    image = sample_image()
    image.layers.append(Layer({"opt/data.bin": b"\1" * (2 << 20)}, created_by="ADD data"))
    archive = write_docker_archive(image, tmp_path / "image.tar")
    sizes: list[int] = []
    real = DigestPrefetcher._hash_range

    def counting(self: DigestPrefetcher, mapped: object, offset: int, size: int) -> str:
        sizes.append(size)
        return real(self, mapped, offset, size)  # type: ignore[arg-type]

    monkeypatch.setattr(DigestPrefetcher, "_hash_range", counting)
    out = tmp_path / "sbom.json"
    monkeypatch.setattr(
        sys, "argv", ["seawall", "sbom", str(archive), "--no-cache", "-f", "json", "-o", str(out)]
    )
    with pytest.raises(SystemExit) as exited:
        entry.run()
    assert exited.value.code == 0
    assert json.loads(out.read_text())["inventory"]["packages"]
    assert sizes[0] >= 1 << 20  # queued at start-up, before the command line loaded
    assert sum(size >= 1 << 20 for size in sizes) == 1  # and not hashed again by the command
    assert not [t for t in threading.enumerate() if t.name.startswith("seawall-digest")]


def test_an_internal_error_is_one_line_and_exit_4(tmp_path: Path) -> None:
    """A bug is never exit 1 (what CI reads as findings) and never a traceback."""
    script = tmp_path / "bug.py"
    script.write_text(
        "import sys\n"
        "from seawall.cli import main\n"
        "@main.app.command('explode')\n"
        "def explode() -> None:\n"
        "    raise RuntimeError('boom\\nsecond line')\n"
        "sys.argv = ['seawall', 'explode']\n"
        "main.run()\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 4
    assert result.stderr.strip().splitlines() == [
        "error: internal error: RuntimeError: boom (a bug in Seawall: please report it with "
        "the command that caused it)"
    ]
