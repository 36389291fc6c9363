"""What a blob is, from its first bytes: gzip, zstd, or an uncompressed tar.

Media types and file names can lie; content cannot. Light on purpose (no imports), so the
start-up digest prefetch can use it before anything else loads.
"""

from __future__ import annotations

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_TAR_MAGIC = b"ustar"
_TAR_MAGIC_OFFSET = 257
HEAD_SIZE = 512  # enough bytes for every test here


def is_compressed(head: bytes) -> bool:
    """True for gzip or zstd content."""
    return head.startswith((GZIP_MAGIC, ZSTD_MAGIC))


def is_tar(head: bytes) -> bool:
    """True if ``head`` (at least 262 bytes) starts with a ustar/GNU/PAX tar header."""
    return head[_TAR_MAGIC_OFFSET : _TAR_MAGIC_OFFSET + len(_TAR_MAGIC)] == _TAR_MAGIC
