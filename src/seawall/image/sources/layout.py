"""OCI image layout directories (``oci-layout``, ``index.json``, ``blobs/``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from seawall.errors import ImageFormatError, InputError, UnsafeInputError
from seawall.image.assemble import open_oci
from seawall.image.blob import WHOLE_FILE, FileBlob
from seawall.image.manifest import MAX_JSON
from seawall.image.source import (
    ImageSource,
    LayerReader,
    OpenedImage,
    SourceOptions,
    register_source,
    split_named_target,
)
from seawall.safety.files import open_descriptor, read_regular


class LayoutStore:
    """The files of an OCI layout directory; names never leave the directory."""

    def __init__(self, root: Path) -> None:
        self.label = str(root)
        self._root = root.resolve()

    def _path(self, name: str) -> Path:
        path = (self._root / name).resolve()
        if not path.is_relative_to(self._root):
            raise UnsafeInputError(f"{self.label}: {name!r} leaves the layout directory")
        return path

    def has(self, name: str) -> bool:
        """True if something is there (what it is, :meth:`read` checks)."""
        return os.path.lexists(self._path(name))

    def read(self, name: str) -> bytes:
        """A small file: a regular one, read without blocking and within the cap."""
        path = self._path(name)
        if not self.has(name):
            raise ImageFormatError(
                f"{self.label}: missing {name}", hint="is this an OCI image layout?"
            )
        return read_regular(path, MAX_JSON, f"{self.label}: {name}")

    def blob(self, name: str) -> FileBlob:
        """Where a layer is; only checked to be a regular file, not opened (a layer answered
        from the cache is only hashed)."""
        path = self._path(name)
        os.close(open_descriptor(path, f"{self.label}: {name}"))
        return FileBlob(str(path), 0, WHOLE_FILE)


@register_source
class OCILayoutSource(ImageSource):
    """A directory in the OCI image layout format."""

    name = "oci-layout"
    description = "an OCI image layout directory"
    priority: ClassVar[int] = 5

    def detect(self, target: str, options: SourceOptions) -> bool:
        root = Path(split_named_target(target, Path.is_dir)[0])
        return root.is_dir() and any(
            os.path.lexists(root / name) for name in ("index.json", "oci-layout")
        )

    def open(self, target: str, options: SourceOptions, read_layer: LayerReader) -> OpenedImage:
        path, name = split_named_target(target, Path.is_dir)
        root = Path(path)
        if not root.is_dir():
            raise InputError(f"{root}: no such directory")
        return open_oci(
            LayoutStore(root),
            reference=str(root),
            source=self.name,
            platform=options.platform,
            ref_name=name,
        )
