"""The processes of a host as ``/proc`` shows them below a root: the host's own ``/proc``, or
the ``proc`` tree of a mounted node filesystem (``--root``). Each is read once, bounded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from seawall.errors import InputError
from seawall.hardening.commandline import read_cmdline
from seawall.hardening.errors import Unassessable
from seawall.hardening.hostfiles import HostFiles
from seawall.safety.files import read_regular

MAX_CMDLINE_BYTES = 1 << 20  # Linux caps argv+environ at a quarter of the stack: 2 MiB at most
MAX_PROCESSES = 100_000


@dataclass(frozen=True)
class Process:
    """One process: its pid, kernel name (``comm``) and argv."""

    pid: int
    name: str
    argv: tuple[str, ...]

    @property
    def program(self) -> str:
        """The base name of argv[0] (``/usr/bin/kubelet`` -> ``kubelet``)."""
        return self.argv[0].rsplit("/", 1)[-1] if self.argv else self.name


def list_processes(
    files: HostFiles, wanted: Callable[[str], bool] | None = None, pids: list[int] | None = None
) -> list[Process]:
    """Every process (whose kernel name ``wanted`` accepts, if given) with a readable
    command line: kernel threads have none; a process that exits while being read is left
    out. The name is read first: reading a busy process's command line waits for its
    memory map, so only the processes asked for are read further. ``pids``: those
    :func:`process_ids` gave, when the caller listed them already. Unassessable when
    ``/proc`` cannot be listed."""
    proc = files.root / "proc"
    found: list[Process] = []
    for pid in process_ids(files) if pids is None else pids:
        try:
            name = read_regular(proc / str(pid) / "comm", 64).decode("utf-8", "replace").strip()
            if wanted is not None and not wanted(name):
                continue
            argv = read_cmdline(read_regular(proc / str(pid) / "cmdline", MAX_CMDLINE_BYTES))
        except InputError:
            continue
        if argv:
            found.append(Process(pid, name, tuple(argv)))
    return found


def process_ids(files: HostFiles) -> list[int]:
    """The pids ``/proc`` lists below the root ([] without a ``proc`` tree), at most
    :data:`MAX_PROCESSES`; Unassessable when it cannot be listed."""
    proc = files.root / "proc"
    try:
        return sorted(int(p.name) for p in proc.iterdir() if p.name.isdigit())[:MAX_PROCESSES]
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise Unassessable(f"cannot list {proc}: {exc.strerror}") from None


def environment(files: HostFiles, pid: int) -> dict[str, str]:
    """The environment a process started with (``/proc/<pid>/environ``), {} if unreadable."""
    try:
        raw = read_regular(files.root / "proc" / str(pid) / "environ", MAX_CMDLINE_BYTES)
    except InputError:
        return {}
    pairs = (part.decode("utf-8", "replace").partition("=") for part in raw.split(b"\0"))
    return {name: value for name, sep, value in pairs if sep and name}
