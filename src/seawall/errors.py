"""One exception hierarchy for everything Seawall reports to a user.

The CLI catches :class:`SeawallError`, prints ``error: <message>`` on one line and exits with
:attr:`SeawallError.exit_code`. Anything else escaping is a bug.

Exit codes: 0 ok, 1 findings at or above ``--fail-on``, 2 usage or bad input,
3 environment (unreachable daemon or registry, missing permission, missing tool), 4 an
internal error (a bug: never reported as findings).
"""

from __future__ import annotations


class SeawallError(Exception):
    """Base class: a problem Seawall explains to the user in one line."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(SeawallError):
    """The input (image, manifest, file, argument) is malformed, unsafe or unsupported."""

    exit_code = 2


class ImageFormatError(InputError):
    """An image archive, layout or manifest is not what it claims to be."""


class DigestMismatchError(ImageFormatError):
    """A blob's content does not hash to the digest that names it."""

    def __init__(self, what: str, expected: str, actual: str) -> None:
        super().__init__(
            f"{what}: digest mismatch, expected {expected}, got {actual}",
            hint="the image is corrupt or was tampered with",
        )


class UnsafeInputError(InputError):
    """The input tried something dangerous: a path escape, a bomb, a huge declared size."""


class EnvironmentFailure(SeawallError):
    """Something outside the input failed: a daemon, a registry, the network, permissions."""

    exit_code = 3


class RegistryError(EnvironmentFailure):
    """A registry could not be reached or refused the request."""


class AuthenticationError(RegistryError):
    """A registry rejected the credentials (or demanded some that were not given)."""


class DaemonError(EnvironmentFailure):
    """The Docker Engine could not be reached or refused the request."""
