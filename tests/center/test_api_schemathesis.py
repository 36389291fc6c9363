"""schemathesis against the API's own OpenAPI document (``/api/v1/openapi.json``, loaded from
the ASGI application), as an owner, a bounded number of examples per operation: no 5xx,
every response conforms to its documented schema, status code and content type. The ingest
operation's body is the result envelope (its JSON Schema under components): schemathesis
generates envelopes from it.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from seawall.contract import encode
from tests.center.conftest import Center
from tests.center.world import JSON
from tests.support import envelopes

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
]
# negative cases (values outside the documented schema) must be refused with a 4xx
NEGATIVE = [not_a_server_error, status_code_conformance, content_type_conformance,
            negative_data_rejection]  # fmt: skip
EXAMPLES = 25  # per operation: the whole run stays well under two minutes


def operations(center: Center) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", center.app)
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) > 30
    return found


def _runner(
    strategy: Any, checks: list[Any], auth: dict[str, str], name: str, statuses: dict[str, set[int]]
) -> Any:
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call(headers=auth)
        statuses.setdefault(name, set()).add(response.status_code)
        case.validate_response(response, checks=checks)

    return run


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_api_keeps_its_documented_promises(center: Center, advisory_db) -> None:
    owner = center.client("owner")
    for envelope in (envelopes.demo_scan(advisory_db), envelopes.host_audit(),
                     envelopes.k8s_scan("shop"), envelopes.alerts("shop"),
                     envelopes.node_audit(cluster="shop")):  # fmt: skip
        assert owner.post("/api/v1/ingest", content=encode(envelope), headers=JSON).is_success
    auth = {"Authorization": owner.headers["Authorization"]}
    started = time.monotonic()
    failures: list[str] = []
    statuses: dict[str, set[int]] = {}
    for operation in operations(center):
        if operation.method.upper() == "DELETE" and operation.path.endswith("/{token_id}"):
            continue  # it would revoke the token the run uses; the matrix calls it

        name = f"{operation.method.upper()} {operation.path}"
        for mode, checks in (
            (GenerationMode.POSITIVE, CHECKS),
            (GenerationMode.NEGATIVE, NEGATIVE),
        ):
            run = _runner(operation.as_strategy(generation_mode=mode), checks, auth, name, statuses)
            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # every operation's failures
                failures.append(f"{name} ({mode.value}): {exc}"[:3000])
    assert not failures, "\n\n".join(failures)
    # the envelope's schema generates: uploads got past the media type to the contract
    assert statuses["POST /api/v1/ingest"] & {201, 422}, statuses["POST /api/v1/ingest"]
    assert statuses["GET /api/v1/images"] & {200}
    assert time.monotonic() - started < 120
