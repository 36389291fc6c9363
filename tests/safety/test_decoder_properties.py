"""Every document decoder on arbitrary bytes and arbitrary JSON structures: it returns, or
raises its one documented error (InputError; RecordError for an OSV record; nothing at all
for an event line, which is counted and skipped)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.errors import InputError
from seawall.policy.manifests import parse_manifests
from seawall.runtime.badinput import BadInput
from seawall.runtime.sources import docker_events, k8s_audit
from seawall.vulndb.osv import RecordError
from seawall.vulndb.record import parse as parse_record
from seawall.vulndb.sbomfile import parse_inventory
from seawall.vulndb.suppress import parse_ignore_file, parse_vex

TODAY = dt.date(2026, 1, 1)


def _events(data: bytes) -> None:
    bad = BadInput()
    k8s_audit.AuditParser(bad).parse(data)
    docker_events.parse_record(data, bad)


def _osv(data: bytes) -> None:
    for name in ("r.json", "r.yaml"):
        with contextlib.suppress(RecordError):
            parse_record(data, name)


DECODERS: dict[str, Callable[[bytes], Any]] = {
    "manifests": lambda data: parse_manifests(data, "m.yaml"),
    "vex": lambda data: parse_vex(data, "v.json"),
    "ignore-file": lambda data: parse_ignore_file(data, "i.yaml", TODAY),
    "sbom": lambda data: parse_inventory(data, "s.json"),
    "osv": _osv,
    "events": _events,
}
# Field names the decoders look for, so that generated structures reach past the envelope.
FIELDS = st.sampled_from([
    "apiVersion", "kind", "items", "metadata", "spec", "statements", "vulnerability",
    "products", "status", "@id", "vulnerabilities", "analysis", "state", "affects", "ref",
    "bomFormat", "components", "purl", "properties", "schema", "inventory", "ignore", "id",
    "reason", "expires", "packages", "affected", "ranges", "events", "verb", "auditID",
    "objectRef", "user", "requestObject", "Type", "Action", "Actor", "event", "inspect",
    "spdxVersion", "externalRefs", "referenceType", "referenceLocator", "primaryPackagePurpose",
])  # fmt: skip
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(FIELDS | st.text(max_size=6),
                                                               inner, max_size=5),
    max_leaves=40,
)  # fmt: skip


@pytest.mark.parametrize("decode", DECODERS.values(), ids=DECODERS.keys())
@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes(decode: Callable[[bytes], Any], data: bytes) -> None:
    with contextlib.suppress(InputError):
        decode(data)


@pytest.mark.parametrize("decode", DECODERS.values(), ids=DECODERS.keys())
@settings(max_examples=150, deadline=None)
@given(value=st.dictionaries(FIELDS, VALUES, max_size=6) | VALUES)
def test_arbitrary_json_structures(decode: Callable[[bytes], Any], value: object) -> None:
    with contextlib.suppress(InputError):
        decode(json.dumps(value).encode())
