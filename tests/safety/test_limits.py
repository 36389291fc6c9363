"""Input caps: one table of defaults, each overridable from the environment."""

from __future__ import annotations

import pytest

from seawall.errors import InputError
from seawall.safety.limits import BYTES, COUNTS, max_bytes, max_count


def test_defaults_apply_without_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEAWALL_MAX_MANIFEST_BYTES", raising=False)
    assert max_bytes("MANIFEST") == BYTES["MANIFEST"]
    assert max_count("MANIFEST_DOCUMENTS") == COUNTS["MANIFEST_DOCUMENTS"]


def test_the_environment_overrides_a_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEAWALL_MAX_VEX_BYTES", "1000")
    monkeypatch.setenv("SEAWALL_MAX_MANIFEST_DOCUMENTS", "7")
    assert max_bytes("VEX") == 1000
    assert max_count("MANIFEST_DOCUMENTS") == 7


@pytest.mark.parametrize("value", ["-1", "0", "1e6", "lots"])
def test_a_bad_override_names_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SEAWALL_MAX_SBOM_BYTES", value)
    with pytest.raises(InputError, match="SEAWALL_MAX_SBOM_BYTES"):
        max_bytes("SBOM")
