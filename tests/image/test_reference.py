"""Image references parse the way Docker parses them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seawall.errors import InputError
from seawall.image.reference import Reference, parse_reference

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("debian", Reference("docker.io", "library/debian", "latest")),
        ("debian:12", Reference("docker.io", "library/debian", "12")),
        ("team/app:v1.2", Reference("docker.io", "team/app", "v1.2")),
        ("127.0.0.1:5000/app", Reference("127.0.0.1:5000", "app", "latest")),
        ("localhost/app:1", Reference("localhost", "app", "1")),
        ("ghcr.io/org/sub/app:x_y", Reference("ghcr.io", "org/sub/app", "x_y")),
        (f"quay.io/app@{DIGEST}", Reference("quay.io", "app", "", DIGEST)),
        (f"quay.io/app:1@{DIGEST}", Reference("quay.io", "app", "1", DIGEST)),
    ],
)
def test_parses_like_docker(text: str, expected: Reference) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "UPPER/case", "app:bad tag", "app@sha256:123", "a//b", "/abs/path", "app:" + "x" * 200],
)
def test_invalid_references_are_input_errors(text: str) -> None:
    with pytest.raises(InputError):
        parse_reference(text)


@given(st.text(max_size=300))
def test_any_text_parses_or_raises_input_error(text: str) -> None:
    try:
        ref = parse_reference(text)
    except InputError:
        return
    assert ref.repository and (ref.tag or ref.digest)


@pytest.mark.parametrize("text", ["./typo.tar", "../x/y", "a..b/repo", ".host/repo"])
def test_hosts_with_empty_labels_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        parse_reference(text)
