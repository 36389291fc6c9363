"""The spool with real parts: a center that is not there, then is; a spool too small for
what is made; a spool on a full file system; files in the spool that are not what their
names say; a center that refuses the token or the results."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.agent.conftest import Center, RunAgent, free_port

ENVELOPE = "[0-9]" * 20 + "-*.json"


def spooled(spool: Path) -> list[Path]:
    return sorted(spool.glob(ENVELOPE))


def status(spool: Path) -> dict:
    return json.loads((spool / "agent.json").read_text())


def host_attributes(center: Center) -> dict:
    """The host's attributes as the center stored them (not served by the API)."""
    with sqlite3.connect(f"file:{center.data_dir / 'seawall.db'}?mode=ro", uri=True) as db:
        (text,) = db.execute("SELECT attributes FROM assets WHERE type = 'host'").fetchone()
    return json.loads(text)


def next_second() -> None:
    """Wait for the next second: a round that reports what an earlier one did, in the same
    second (envelopes carry the time to the second), is the same result, sent under the same
    Idempotency-Key (its digest) and stored once; rounds meant to count twice must differ."""
    started = int(time.time())
    while int(time.time()) == started:
        time.sleep(0.05)


def nowhere() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_bounded_by_bytes_and_files_oldest_dropped_and_reported(
    center: Center, run_agent: RunAgent, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    common = ("--token", center.token, "--spool", str(spool), "--no-images", "--name", "bounded")
    first = run_agent("--center", nowhere(), *common, "--spool-max-mb", "0.3")
    assert first.returncode == 0, first.stderr
    [kept] = spooled(spool)
    size = kept.stat().st_size
    assert 100_000 < size < 150_000, size  # so 0.3 MiB holds two host audits
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    names = [kept.name]
    for _ in range(3):
        again = run_agent("--center", nowhere(), *common, "--spool-max-mb", "0.3")
        names += [p.name for p in spooled(spool) if p.name not in names]
    assert again.returncode == 3 and "1 dropped from the spool" in again.stderr
    assert "Traceback" not in again.stderr
    assert [p.name for p in spooled(spool)] == names[-2:], "the oldest were dropped"
    assert status(spool)["dropped"] == 2
    assert "spool full: oldest envelopes dropped" in again.stderr
    # The count bound: one file at most.
    one = run_agent("--center", nowhere(), *common, "--spool-max-files", "1")
    assert one.returncode == 3
    assert [p.name for p in spooled(spool)] != names[-1:] and len(spooled(spool)) == 1
    assert status(spool)["dropped"] == 4
    # The center answers: what waited arrives, and the new report says what was lost.
    sent = run_agent("--center", center.url, *common)
    assert sent.returncode == 0, sent.stderr
    assert spooled(spool) == []
    assert center.scan_kinds() == {"host-audit": 2}
    assert host_attributes(center)["agent_spool_dropped"] == "4"
    assert status(spool)["dropped"] == 4 and status(spool)["pending"] == 0


def test_a_full_disk_is_a_drop_not_a_crash(
    center: Center, run_agent: RunAgent, tmp_path: Path
) -> None:
    spool = tmp_path / "tmpfs"
    spool.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(spool)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs (root needed): {mounted.stderr}")
    try:
        common = ("--center", nowhere(), "--token", center.token, "--spool", str(spool),
                  "--no-images")  # fmt: skip
        first = run_agent(*common)
        assert first.returncode == 0, first.stderr
        for _ in range(2):
            full = run_agent(*common)
        assert full.returncode == 3, full.stderr
        assert "disk full" in full.stderr and "Traceback" not in full.stderr
        assert status(spool)["dropped"] >= 1
        assert not list(spool.glob(".tmp-*")), "no half-written file is left"
        for path in spooled(spool):  # what is there is whole
            assert hashlib.sha256(path.read_bytes()).hexdigest() in path.name
        next_second()
        sent = run_agent("--center", center.url, *common[2:])
        assert sent.returncode == 0, sent.stderr
        assert spooled(spool) == []
        assert center.scan_kinds()["host-audit"] == 1 + len(
            [n for n in first.stderr.splitlines() if "spooled" in n]
        )
    finally:
        subprocess.run(["umount", str(spool)], check=False)


def test_corrupt_files_in_the_spool_are_set_aside(
    center: Center, run_agent: RunAgent, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    common = ("--token", center.token, "--spool", str(spool), "--no-images")
    assert run_agent("--center", nowhere(), *common).returncode == 0
    [good] = spooled(spool)
    body = good.read_bytes()
    digest = hashlib.sha256(b"something else").hexdigest()
    truncated = spool / f"{1:020d}-000000-{hashlib.sha256(body).hexdigest()}.json"
    truncated.write_bytes(body[: len(body) // 2])
    fifo = spool / f"{2:020d}-000000-{digest}.json"
    os.mkfifo(fifo)
    link = spool / f"{3:020d}-000000-{digest}.json"
    link.symlink_to("/etc/passwd")
    (spool / ".tmp-00000000000000000004-000000-x.json").write_bytes(b"{half")
    (spool / "notes.txt").write_text("a person's file: left alone")
    next_second()
    done = run_agent("--center", center.url, *common)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("set aside") == 3, done.stderr
    assert "content does not match its name" in done.stderr
    aside = sorted(p.name for p in (spool / "rejected").iterdir())
    assert aside == sorted([truncated.name, fifo.name, link.name])
    assert spooled(spool) == [] and not list(spool.glob(".tmp-*"))
    assert (spool / "notes.txt").exists()
    assert center.scan_kinds() == {"host-audit": 2}  # the good one and this round's
    assert status(spool)["rejected"] == 3


def test_a_refused_token_is_exit_3_and_nothing_is_lost(
    center: Center, run_agent: RunAgent, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    refused = run_agent("--center", center.url, "--token", "swt_wrong", "--spool", str(spool),
                        "--no-images")  # fmt: skip
    assert refused.returncode == 3, refused.stderr
    last = refused.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the center at") and "refused the token: HTTP 401" in last
    assert "Traceback" not in refused.stderr
    assert len(spooled(spool)) == 1, "kept for when the token is fixed"
    next_second()
    fixed = run_agent("--center", center.url, "--token", center.token, "--spool", str(spool),
                      "--no-images")  # fmt: skip
    assert fixed.returncode == 0, fixed.stderr
    assert center.scan_kinds() == {"host-audit": 2}


def test_a_result_refused_for_good_is_set_aside_not_retried(
    center: Center, run_agent: RunAgent, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    reader = center.create_token("reader")
    refused = run_agent("--center", center.url, "--token", reader, "--spool", str(spool),
                        "--no-images")  # fmt: skip
    assert refused.returncode == 3, refused.stderr
    assert "HTTP 403" in refused.stderr and "1 refused by the center" in refused.stderr
    assert spooled(spool) == [] and len(list((spool / "rejected").iterdir())) == 1
    again = run_agent("--center", center.url, "--token", center.token, "--spool", str(spool),
                      "--no-images")  # fmt: skip
    assert again.returncode == 0 and center.scan_kinds() == {"host-audit": 1}


def test_bad_options_are_usage_errors(run_agent: RunAgent, tmp_path: Path) -> None:
    bad = run_agent("--center", "ftp://x", "--token", "t", "--spool", str(tmp_path))
    assert bad.returncode == 2 and "not an http(s) URL" in bad.stderr
    bad = run_agent("--center", "http://x", "--token", "t", "--interval", "soon")
    assert bad.returncode == 2 and "--interval" in bad.stderr
    env = {k: v for k, v in os.environ.items() if k != "SEAWALL_TOKEN"}
    tokenless = subprocess.run([sys.executable, "-m", "seawall", "agent", "--center", "http://x"],
                               capture_output=True, text=True, env=env)  # fmt: skip
    assert tokenless.returncode == 2 and "needs a token" in tokenless.stderr
