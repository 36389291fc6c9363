"""The host's files as seen under a root (``/`` on the host, a mount point in a container).

Every path the checks name is a host path (``/etc/docker``); it is read below ``root`` and
never leaves it (symbolic links are resolved inside the root). Results are cached: a
snapshot reads each file once.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

from seawall.errors import InputError, UnsafeInputError
from seawall.hardening.errors import Unassessable
from seawall.safety.files import MissingFileError, read_regular

MAX_TEXT_BYTES = 4 << 20
_MAX_LINKS = 40
MAX_WALK_ENTRIES = 10_000


@dataclass(frozen=True)
class FileInfo:
    """Owner, group and mode of one host file (names from the host's passwd and group)."""

    path: str
    uid: int
    gid: int
    mode: int  # permission bits only
    user: str
    group: str
    kind: str  # "file", "dir", "socket", "other"

    @property
    def owner(self) -> str:
        return f"{self.user}:{self.group}"

    @property
    def describe(self) -> str:
        return f"{self.path} {self.owner} {self.mode:o}"


@dataclass(frozen=True)
class GroupEntry:
    name: str
    gid: int
    members: tuple[str, ...]


def parse_group(text: str) -> dict[str, GroupEntry]:
    """``/etc/group`` entries by name; malformed lines are skipped."""
    groups: dict[str, GroupEntry] = {}
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) < 4 or not parts[0] or line.startswith("#"):
            continue
        try:
            gid = int(parts[2])
        except ValueError:
            continue
        members = tuple(m.strip() for m in parts[3].split(",") if m.strip())
        groups.setdefault(parts[0], GroupEntry(parts[0], gid, members))
    return groups


def parse_passwd(text: str) -> dict[str, tuple[int, int]]:
    """``/etc/passwd`` as name -> (uid, primary gid); malformed lines are skipped."""
    users: dict[str, tuple[int, int]] = {}
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) < 4 or not parts[0]:
            continue
        try:
            users.setdefault(parts[0], (int(parts[2]), int(parts[3])))
        except ValueError:
            continue
    return users


class HostFiles:
    """Read-only access to host paths below ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._stats: dict[str, FileInfo | None] = {}

    def resolve(self, path: str) -> Path:
        """The real location of host ``path``, following links without leaving the root;
        Unassessable when a directory on the way cannot be searched."""
        parts = list(PurePosixPath("/", path).parts[1:])
        current = PurePosixPath("/")
        links = 0
        while parts:
            part = parts.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                current = current.parent
                continue
            candidate = current / part
            real = self.root / str(candidate).lstrip("/")
            try:
                link = real.readlink() if real.is_symlink() else None
            except OSError as exc:  # a directory on the way that this user may not search
                raise Unassessable(f"cannot resolve {path}: {exc.strerror}") from None
            if link is not None:
                links += 1
                if links > _MAX_LINKS:
                    raise Unassessable(f"{path}: too many symbolic links")
                target = PurePosixPath(link)
                if target.is_absolute():
                    current = PurePosixPath("/")
                parts = list(target.parts[1:] if target.is_absolute() else target.parts) + parts
                continue
            current = candidate
        return self.root / str(current).lstrip("/")

    def exists(self, path: str) -> bool:
        return self.stat(path) is not None

    def stat(self, path: str) -> FileInfo | None:
        """Owner and mode of ``path`` (links followed), None if it does not exist."""
        if path not in self._stats:
            try:
                st = self.resolve(path).stat()
            except FileNotFoundError:
                self._stats[path] = None
            except OSError as exc:
                raise Unassessable(f"cannot stat {path}: {exc.strerror}") from None
            else:
                self._stats[path] = FileInfo(
                    path=path,
                    uid=st.st_uid,
                    gid=st.st_gid,
                    mode=stat.S_IMODE(st.st_mode),
                    user=self.user_name(st.st_uid),
                    group=self.group_name(st.st_gid),
                    kind=_kind(st.st_mode),
                )
        return self._stats[path]

    def read_text(self, path: str) -> str | None:
        """The text of ``path``, None if it does not exist; Unassessable if unreadable or
        not a regular file (a FIFO would block the audit forever, a device never end)."""
        try:
            data = read_regular(self.resolve(path), MAX_TEXT_BYTES, path)
        except MissingFileError:
            return None
        except UnsafeInputError:
            raise Unassessable(f"{path} is larger than {MAX_TEXT_BYTES >> 20} MiB") from None
        except InputError as exc:
            raise Unassessable(f"cannot read {exc.message}") from None
        return data.decode("utf-8", "replace")

    def list_dir(self, path: str) -> list[str]:
        """Names in directory ``path`` (sorted), empty if it does not exist."""
        try:
            return sorted(p.name for p in self.resolve(path).iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            raise Unassessable(f"cannot list {path}: {exc.strerror}") from None

    def walk(self, path: str, limit: int = MAX_WALK_ENTRIES) -> list[str]:
        """``path`` and every entry below it (host paths, breadth first), without following
        links to directories; [] if it does not exist. Unassessable past ``limit`` entries
        (a directory tree that large is not a configuration directory)."""
        if self.stat(path) is None:
            return []
        found = [path]
        pending = [path]
        while pending:
            directory = pending.pop(0)
            real = self.resolve(directory)
            if not real.is_dir():
                continue
            for name in self.list_dir(directory):
                child = f"{directory.rstrip('/')}/{name}"
                found.append(child)
                if len(found) > limit:
                    raise Unassessable(f"{path} holds more than {limit} entries")
                entry = real / name
                if not entry.is_symlink() and entry.is_dir():
                    pending.append(child)
        return found

    def device(self, path: str) -> int | None:
        """The device number of ``path`` (for partition checks), None if missing."""
        try:
            return self.resolve(path).stat().st_dev
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise Unassessable(f"cannot stat {path}: {exc.strerror}") from None

    @cached_property
    def groups(self) -> dict[str, GroupEntry]:
        return parse_group(self.read_text("/etc/group") or "")

    @cached_property
    def users(self) -> dict[str, tuple[int, int]]:
        return parse_passwd(self.read_text("/etc/passwd") or "")

    def user_name(self, uid: int) -> str:
        for name, (user_id, _) in self.users.items():
            if user_id == uid:
                return name
        return str(uid)

    def group_name(self, gid: int) -> str:
        for entry in self.groups.values():
            if entry.gid == gid:
                return entry.name
        return str(gid)


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "other"
