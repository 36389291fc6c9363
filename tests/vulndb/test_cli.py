"""``seawall db`` through the real command line (subprocess): import, status, export, update."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.vulndb.conftest import FIXTURES, OsvServer, osv, write_zip


def seawall(*args: str, db: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SEAWALL_DB"}
    if db is not None:
        env["SEAWALL_DB"] = str(db)
    return subprocess.run(
        [sys.executable, "-m", "seawall", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_help() -> None:
    for command in (["db"], ["db", "update"], ["db", "import"], ["db", "status"], ["db", "export"]):
        result = seawall(*command, "--help")
        assert result.returncode == 0, result.stderr
        assert "--db" in result.stdout or command == ["db"]


def test_import_status_export_import(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.json").write_text("{not json")
    result = seawall("db", "import", str(FIXTURES), str(bad), "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "1 malformed" in result.stdout
    assert "broken.json" in result.stderr

    result = seawall("db", "status", "--format", "json", "--verify", db=db)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert set(status["ecosystems"]) == {"PyPI", "Go", "crates.io"}
    assert status["advisories"] > 270

    table = seawall("db", "status", "--db", str(db), "-o", str(tmp_path / "status.txt"))
    assert table.returncode == 0
    assert "crates.io" in (tmp_path / "status.txt").read_text()

    bundle = tmp_path / "carry.db"
    assert seawall("db", "export", str(bundle), "--db", str(db)).returncode == 0
    offline = tmp_path / "offline.db"
    result = seawall("db", "import", str(bundle), "--db", str(offline), "-f", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"] == status["advisories"]


def test_update_against_local_server(osv_server: OsvServer, tmp_path: Path) -> None:
    osv_server.serve(
        "npm",
        write_zip(tmp_path / "n.zip", {"n.json": osv("GHSA-n", "npm", "left-pad")}).read_bytes(),
        '"n1"',
    )
    db = tmp_path / "a.db"
    first = seawall("db", "update", "--source", osv_server.url, "-e", "NPM", "--db", str(db))
    assert first.returncode == 0, first.stderr
    assert "1 advisories" in first.stdout
    second = seawall("db", "update", "--source", osv_server.url, "-e", "npm", "--db", str(db))
    assert second.returncode == 0
    assert "up to date" in second.stdout


def test_errors_are_one_line_with_exit_codes(tmp_path: Path) -> None:
    missing = seawall("db", "status", "--db", str(tmp_path / "none.db"))
    assert missing.returncode == 3
    assert "seawall db update" in missing.stderr and "Traceback" not in missing.stderr
    corrupt = tmp_path / "c.db"
    corrupt.write_bytes(b"SQLite format 3\x00" + b"\x01" * 4000)
    result = seawall("db", "status", "--db", str(corrupt))
    assert result.returncode == 2 and "corrupt" in result.stderr
    assert "Traceback" not in result.stderr
    unknown = seawall("db", "update", "-e", "cobol", "--db", str(tmp_path / "x.db"))
    assert unknown.returncode == 2 and "unknown ecosystem" in unknown.stderr
    refused = seawall(
        "db", "update", "--source", "http://127.0.0.1:9", "-e", "Go", "--db", str(tmp_path / "x.db")
    )
    assert refused.returncode == 3 and "downloading" in refused.stderr
