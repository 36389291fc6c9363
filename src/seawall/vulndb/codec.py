"""How rows of the advisory store are encoded: zstd-compressed msgpack, with a CRC-32.

Advisories and per-package entry lists are msgspec structs, so encoding is one C call each;
the CRC of the stored (compressed) bytes is kept beside them and checked on every read.
Rows are small (a few hundred bytes), so each store has a zstd dictionary trained on its
first records: it compresses rows 2-3 times better than zstd alone. A row inflates to at most
the ``DATABASE_ROW`` cap: a store from elsewhere could hold a zstd frame of a few KB that
claims (or yields) gigabytes, and a forged CRC is no protection.
"""

from __future__ import annotations

import zlib

import msgspec
import zstandard

from seawall.model import Advisory, Affected
from seawall.safety.limits import max_bytes

LEVEL = 3
DICT_SIZE = 112 * 1024
MIN_SAMPLES = 500  # below this a dictionary is not worth training
_advisory_decoder = msgspec.msgpack.Decoder(Advisory)
_entries_decoder = msgspec.msgpack.Decoder(list[tuple[str, Affected]])
_encoder = msgspec.msgpack.Encoder()


class ChecksumError(ValueError):
    """A stored blob does not match its recorded CRC, or does not decode."""


def crc(blob: bytes) -> int:
    return zlib.crc32(blob)


def train(samples: list[bytes]) -> bytes:
    """A zstd dictionary for rows like ``samples`` (msgpack); b"" when too few to train."""
    if len(samples) < MIN_SAMPLES:
        return b""
    try:
        buffers: list[bytes | bytearray | memoryview] = list(samples)
        return bytes(zstandard.train_dictionary(DICT_SIZE, buffers).as_bytes())
    except zstandard.ZstdError:
        return b""


def raw_advisory(advisory: Advisory) -> bytes:
    return _encoder.encode(advisory)


class Codec:
    """Compressor and decompressor objects for one dictionary (b"": none), reused."""

    def __init__(self, dictionary: bytes = b"") -> None:
        self.dictionary = dictionary
        zdict = zstandard.ZstdCompressionDict(dictionary) if dictionary else None
        self._compress = zstandard.ZstdCompressor(level=LEVEL, dict_data=zdict).compress
        self._decompress = zstandard.ZstdDecompressor(dict_data=zdict).decompress

    def pack(self, raw: bytes) -> tuple[int, bytes]:
        """(crc, compressed) of msgpack bytes."""
        blob = self._compress(raw)
        return crc(blob), blob

    def encode_advisory(self, advisory: Advisory) -> tuple[int, bytes]:
        return self.pack(_encoder.encode(advisory))

    def encode_entries(self, entries: list[tuple[str, msgspec.Raw]]) -> tuple[int, bytes]:
        """An entry list from already-encoded Affected entries."""
        return self.pack(_encoder.encode(entries))

    def unpack(self, checksum: int, blob: bytes) -> bytes:
        """The msgpack bytes of a stored row (CRC checked, inflation capped)."""
        if crc(blob) != checksum:
            raise ChecksumError("checksum mismatch")
        limit = max_bytes("DATABASE_ROW")
        try:
            if zstandard.frame_content_size(blob) > limit:
                raise ChecksumError(f"inflates past {limit} bytes")
            return bytes(self._decompress(blob, max_output_size=limit))
        except zstandard.ZstdError as exc:
            raise ChecksumError(f"cannot decompress: {exc}") from None

    def decode_advisory(self, checksum: int, blob: bytes) -> Advisory:
        try:
            return _advisory_decoder.decode(self.unpack(checksum, blob))
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ChecksumError(str(exc)) from None

    def decode_entries(self, checksum: int, blob: bytes) -> list[tuple[str, Affected]]:
        try:
            return _entries_decoder.decode(self.unpack(checksum, blob))
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ChecksumError(str(exc)) from None


def encode_affected(entry: Affected) -> msgspec.Raw:
    """One entry, encoded once so it can be grouped by package without re-encoding."""
    return msgspec.Raw(_encoder.encode(entry))
