"""Raw bytes in names become backslash escapes before anything is written."""

from __future__ import annotations

import unicodedata

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from seawall.model import Ecosystem, ImageInfo, Inventory, Package
from seawall.safety.text import printable, printable_struct


def test_raw_bytes_and_lone_surrogates_are_escaped() -> None:
    assert printable(b"caf\xe9".decode("utf-8", "surrogateescape")) == "caf\\xe9"
    assert printable("a\ud800b") == "a\\ud800b"
    assert printable("plain é") == "plain é"


def test_control_characters_are_escaped() -> None:
    assert (
        printable("a\x1b]52;c;eA==\x07b\nc\x7f\x85") == "a\\x1b]52;c;eA==\\x07b\\x0ac\\x7f\\u0085"
    )


def test_a_struct_with_a_terminal_escape_is_rebuilt() -> None:
    info = ImageInfo(reference="x\x1b[31m", source="oci-layout")
    assert printable_struct(info).reference == "x\\x1b[31m"


@given(st.binary(max_size=64))
def test_any_name_becomes_encodable_and_printable(raw: bytes) -> None:
    text = printable(raw.decode("utf-8", "surrogateescape"))
    text.encode("utf-8")
    assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in text)


def test_an_inventory_with_raw_names_becomes_encodable() -> None:
    inventory = Inventory(
        image=ImageInfo(reference="r\udce9", source="oci-layout"),
        distro=None,
        packages=(Package(ecosystem=Ecosystem.NPM, name="a", version="1", path="x\udcff"),),
        warnings=("w\udc80",),
    )
    safe = printable_struct(inventory)
    msgspec.json.encode(safe)
    assert safe.packages[0].path == "x\\xff" and safe.image.reference == "r\\xe9"


def test_a_clean_struct_is_returned_as_is() -> None:
    info = ImageInfo(reference="ok", source="oci-layout")
    assert printable_struct(info) is info
