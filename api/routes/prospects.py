"""REST v1: prospects of a campaign, CSV import, single prospects."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from api.deps import ClockDep, CurrentProfile, SessionDep
from api.routes.params import CursorParam, LimitParam
from api.schemas.common import ErrorPublic, Page
from api.schemas.prospects import ProspectCreate, ProspectImportReport, ProspectPublic, ProspectUpdate
from api.services import prospects as service
from api.services.errors import ValidationProblem
from db.models import CallSequenceStatus

router = APIRouter(tags=["prospects"], responses={401: {"model": ErrorPublic}, 422: {"model": ErrorPublic}})
_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such campaign or prospect for this API key."}}
_NOT_FOUND_OR_CONFLICT = {**_NOT_FOUND, 409: {"model": ErrorPublic}}


@router.get("/campaigns/{campaign_id}/prospects", response_model=Page[ProspectPublic], responses=_NOT_FOUND)
async def list_prospects(
    campaign_id: uuid.UUID,
    session: SessionDep,
    profile: CurrentProfile,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
    status_: Annotated[
        CallSequenceStatus | None, Query(alias="status", description="Only prospects in this status.")
    ] = None,
) -> Page[ProspectPublic]:
    """The campaign's prospects in the order they were added (the seed's `listProspects`)."""
    items, next_cursor = await service.list_prospects(
        session, profile, campaign_id, status=status_, limit=limit, cursor=cursor
    )
    return Page(items=[ProspectPublic.model_validate(p) for p in items], next_cursor=next_cursor)


@router.post(
    "/campaigns/{campaign_id}/prospects",
    status_code=status.HTTP_201_CREATED,
    response_model=ProspectPublic,
    responses={**_NOT_FOUND, 409: {"model": ErrorPublic}},
)
async def create_prospect(
    campaign_id: uuid.UUID, data: ProspectCreate, session: SessionDep, profile: CurrentProfile, clock: ClockDep
) -> ProspectPublic:
    """Add a prospect (the seed's `addProspect`), due at once. The dialer only calls prospects
    with a `consent_basis`; a number on the do-not-call list is stored as `do_not_call`."""
    prospect = await service.create_prospect(session, profile, campaign_id, data, clock=clock)
    return ProspectPublic.model_validate(prospect)


@router.post(
    "/campaigns/{campaign_id}/prospects/import",
    response_model=ProspectImportReport,
    responses={**_NOT_FOUND, 409: {"model": ErrorPublic}, 413: {"model": ErrorPublic}},
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
                },
            }
        }
    },
)
async def import_prospects(
    campaign_id: uuid.UUID, request: Request, session: SessionDep, profile: CurrentProfile, clock: ClockDep
) -> ProspectImportReport:
    """Import a CSV (up to 20 MiB): as the raw body (`Content-Type: text/csv`) or as the `file`
    field of a multipart form. UTF-8 or Latin-1, comma or semicolon, header row required."""
    content = await _csv_bytes(request)
    return await service.import_prospects_csv(session, profile, campaign_id, content, clock=clock)


async def _csv_bytes(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        try:
            form = await request.form(max_files=1, max_fields=10)
        except HTTPException:
            raise  # the body-size limit
        except Exception:  # python-multipart raises several types for a malformed form
            raise _no_file("The multipart form cannot be read.") from None
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise _no_file("The form has no 'file' field with the CSV.")
        return await upload.read()
    body = await request.body()
    if not body:
        raise _no_file("The request has no body; send the CSV as the body or as the 'file' field of a form.")
    return body


def _no_file(message: str) -> ValidationProblem:
    return ValidationProblem.single("file", f"file: {message}", "Falta el archivo CSV.")


@router.get("/prospects/{prospect_id}", response_model=ProspectPublic, responses=_NOT_FOUND)
async def get_prospect(prospect_id: uuid.UUID, session: SessionDep, profile: CurrentProfile) -> ProspectPublic:
    return ProspectPublic.model_validate(await service.get_prospect(session, profile, prospect_id))


@router.patch("/prospects/{prospect_id}", response_model=ProspectPublic, responses=_NOT_FOUND_OR_CONFLICT)
async def update_prospect(
    prospect_id: uuid.UUID, data: ProspectUpdate, session: SessionDep, profile: CurrentProfile, clock: ClockDep
) -> ProspectPublic:
    """Change the fields sent."""
    prospect = await service.update_prospect(session, profile, prospect_id, data, clock=clock)
    return ProspectPublic.model_validate(prospect)


@router.delete(
    "/prospects/{prospect_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND_OR_CONFLICT
)
async def delete_prospect(prospect_id: uuid.UUID, session: SessionDep, profile: CurrentProfile) -> Response:
    """Delete the prospect; its call logs stay."""
    await service.delete_prospect(session, profile, prospect_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
