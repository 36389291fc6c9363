"""The analyzer interface: one class per package format, registered by a decorator.

An analyzer declares, as data, which files it wants (exact paths, basenames, extensions,
directories, or any executable), so the layer reader can pick candidate files from a tar stream
with a few dictionary look-ups instead of asking every analyzer about every file. A cheap
:meth:`Analyzer.accepts` test refines the match. The reader then hands the file's content to
:meth:`Analyzer.analyze`, which parses it and returns what it found. Analyzers never touch the
filesystem or the network and never execute anything: they only read the bytes they are given.

Paths are relative to the image root, normalised, with no leading slash
(``var/lib/dpkg/status``, ``usr/lib/python3/dist-packages/foo-1.0.dist-info/METADATA``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import BinaryIO, ClassVar, TypeVar, cast

import msgspec

from seawall.model import OSInfo, Package

MiB = 1024 * 1024


class AnalyzerOutput(msgspec.Struct, kw_only=True):
    """What one analyzer found in one file."""

    packages: list[Package] = msgspec.field(default_factory=list)
    distro: OSInfo | None = None
    warnings: list[str] = msgspec.field(default_factory=list)


P = TypeVar("P")


class SharedParses:
    """Parses of one file, shared by the analyzers that read it: each parse is made by the
    first analyzer that asks for it.

    The layer reader makes one per file and hands it to every analyzer of that file, so the
    Go and Rust binary analyzers read an executable's ELF tables once between them. It
    lives as long as that file's analysis: nothing outlives it or reaches another thread.
    """

    def __init__(self, data: BinaryIO) -> None:
        self._data = data
        self._parsed: dict[Callable[[BinaryIO], object], object] = {}

    def get(self, parse: Callable[[BinaryIO], P]) -> P:
        """``parse(data)``, computed once for this file (a failure is not remembered)."""
        if parse not in self._parsed:
            self._parsed[parse] = parse(self._data)
        return cast(P, self._parsed[parse])


class Analyzer(ABC):
    """Base class of all analyzers. Subclasses set the class attributes and implement analyze.

    ``analyze`` may raise any exception on malformed input: the layer reader catches it,
    records one warning naming the file and the analyzer, and goes on with the next file.
    """

    name: ClassVar[str]
    # Files larger than this are not read; the reader records a warning instead.
    max_size: ClassVar[int] = 32 * MiB
    paths: ClassVar[frozenset[str]] = frozenset()
    basenames: ClassVar[frozenset[str]] = frozenset()
    extensions: ClassVar[frozenset[str]] = frozenset()  # with the dot: ".jar"
    directories: ClassVar[frozenset[str]] = frozenset()  # files directly inside these
    executables: ClassVar[bool] = False  # every regular file with an executable bit
    # When set, only files whose content starts with one of these byte strings are analysed
    # (e.g. the ELF magic): the reader checks it before copying any content.
    magic: ClassVar[tuple[bytes, ...]] = ()

    def accepts(self, path: str) -> bool:
        """Finer test for a file that matched the declared patterns; default: accept."""
        return True

    @abstractmethod
    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        """Parse ``data`` (the content of the file at ``path``; seekable, read-only)."""

    def analyze_shared(self, path: str, data: BinaryIO, shared: SharedParses) -> AnalyzerOutput:
        """What the layer reader calls: :meth:`analyze` by default. Analyzers that parse a
        file the way others do override it to take that parse from ``shared``."""
        return self.analyze(path, data)


_REGISTRY: dict[str, type[Analyzer]] = {}

A = TypeVar("A", bound=type[Analyzer])


def register(cls: A) -> A:
    """Class decorator that adds an analyzer to the set every scan uses."""
    if cls.name in _REGISTRY:
        raise ValueError(f"two analyzers are named {cls.name!r}")
    _REGISTRY[cls.name] = cls
    return cls


def all_analyzers() -> list[Analyzer]:
    """One instance of every registered analyzer, in name order."""
    import seawall.inventory.analyzers  # noqa: F401  (importing registers them)

    return [_REGISTRY[name]() for name in sorted(_REGISTRY)]


class AnalyzerIndex:
    """Finds the analyzers that want a file, with dictionary look-ups on its path."""

    def __init__(self, analyzers: list[Analyzer]) -> None:
        self.analyzers = analyzers
        self._by_path: dict[str, list[Analyzer]] = {}
        self._by_basename: dict[str, list[Analyzer]] = {}
        self._by_extension: dict[str, list[Analyzer]] = {}
        self._by_directory: dict[str, list[Analyzer]] = {}
        self._executable = [a for a in analyzers if a.executables]
        for analyzer in analyzers:
            for table, keys in (
                (self._by_path, analyzer.paths),
                (self._by_basename, analyzer.basenames),
                (self._by_extension, analyzer.extensions),
                (self._by_directory, analyzer.directories),
            ):
                for key in keys:
                    table.setdefault(key, []).append(analyzer)

    def candidates(self, path: str, executable: bool) -> list[Analyzer]:
        """The analyzers that want the regular file at ``path`` (empty for most files)."""
        directory, _, basename = path.rpartition("/")
        found: list[Analyzer] = []
        for table, key in (
            (self._by_path, path),
            (self._by_basename, basename),
            (self._by_directory, directory),
        ):
            hit = table.get(key)
            if hit:
                found.extend(hit)
        dot = basename.rfind(".")
        if dot > 0:
            hit = self._by_extension.get(basename[dot:].lower())
            if hit:
                found.extend(hit)
        if executable and self._executable:
            found.extend(self._executable)
        if not found:
            return found
        unique = list(dict.fromkeys(found))
        return [a for a in unique if a.accepts(path)]
