"""OCI image layout directories (``oci-layout``, ``index.json``, ``blobs/``)."""

from __future__ import annotations

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
        return self._path(name).is_file()

    def read(self, name: str) -> bytes:
        path = self._path(name)
        try:
            size = path.stat().st_size
            if size > MAX_JSON:
                raise UnsafeInputError(f"{self.label}: {name} is {size} bytes; too large")
            return path.read_bytes()
        except FileNotFoundError:
            raise ImageFormatError(
                f"{self.label}: missing {name}", hint="is this an OCI image layout?"
            ) from None

    def blob(self, name: str) -> FileBlob:
        # Not opened yet: a layer answered from the cache needs no file.
        return FileBlob(str(self._path(name)), 0, WHOLE_FILE)


@register_source
class OCILayoutSource(ImageSource):
    """A directory in the OCI image layout format."""

    name = "oci-layout"
    description = "an OCI image layout directory"
    priority: ClassVar[int] = 5

    def detect(self, target: str, options: SourceOptions) -> bool:
        root = Path(split_named_target(target, Path.is_dir)[0])
        return (root / "index.json").is_file() or (root / "oci-layout").is_file()

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
