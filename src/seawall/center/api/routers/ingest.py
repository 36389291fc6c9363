"""``POST /api/v1/ingest``: a result envelope from ``--upload``, an agent or a pipeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Header, HTTPException, Request, status
from fastapi import Response as FastAPIResponse

from seawall.center.api.deps import DB, Contributor, center, now
from seawall.center.api.schemas import IngestReceipt
from seawall.center.ingest import Conflict, Forbidden, Invalid, Unsupported, ingest
from seawall.contract import ContractError, decode

router = APIRouter(tags=["ingest"])
BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}},
    }
}


async def json_body(request: Request) -> bytes:
    """The raw body of a JSON request (its size is capped by the body-limit middleware)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send application/json")
    return await request.body()


@router.post(
    "/ingest",
    response_model=IngestReceipt,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=BODY,
    responses={200: {"model": IngestReceipt, "description": "Already ingested (same key)"}},
)
def post_ingest(
    request: Request,
    response: FastAPIResponse,
    background: BackgroundTasks,
    session: DB,
    caller: Contributor,
    body: Annotated[bytes, Depends(json_body)],
    idempotency_key: Annotated[str | None, Header(max_length=64, pattern=r"^[\w.-]+$")] = None,
) -> IngestReceipt:
    """Store one result envelope (``seawall ... -f json`` output, as it is)."""
    try:
        envelope = decode(body, "body")
    except ContractError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    except RecursionError:  # msgspec's guard against deep nesting
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "body: not JSON: nested too deeply"
        ) from None
    try:
        receipt = ingest(session, envelope, caller, now(), idempotency_key)
    except Forbidden as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    except (Unsupported, Invalid) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    except Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    if receipt.duplicate:
        response.status_code = status.HTTP_200_OK
    worker = center(request).worker
    if receipt.needs_matching and worker is not None:
        background.add_task(worker.wake)  # runs once the ingest is committed
    return IngestReceipt(
        scan=receipt.scan,
        kind=receipt.kind,
        asset=receipt.asset,
        duplicate=receipt.duplicate,
        new=receipt.new,
        resolved=receipt.resolved,
        reopened=receipt.reopened,
    )
