"""REST v1: the tenant's do-not-call list."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import CurrentProfile, SessionDep
from api.routes.params import CursorParam, LimitParam
from api.schemas.common import ErrorPublic, Page, normalise_phone
from api.schemas.do_not_call import DoNotCallCreate, DoNotCallPublic
from api.services import do_not_call as service
from api.services.errors import ValidationProblem

router = APIRouter(
    prefix="/do-not-call", tags=["do-not-call"], responses={401: {"model": ErrorPublic}, 422: {"model": ErrorPublic}}
)
PhoneQuery = Annotated[str | None, Query(max_length=64, description="A phone number in any format.")]


def _phone_param(raw: str) -> str:
    try:
        return normalise_phone(raw)
    except ValueError as exc:
        raise ValidationProblem.single(
            "phone_number", f"phone_number: {exc}", "El número de teléfono no es válido."
        ) from None


@router.get("", response_model=Page[DoNotCallPublic])
async def list_do_not_call(
    session: SessionDep,
    profile: CurrentProfile,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
    phone_number: PhoneQuery = None,
) -> Page[DoNotCallPublic]:
    """The suppressed numbers, newest first; `phone_number` looks one up."""
    number = _phone_param(phone_number) if phone_number is not None else None
    items, next_cursor = await service.list_do_not_call(
        session, profile, phone_number=number, limit=limit, cursor=cursor
    )
    return Page(items=[DoNotCallPublic.model_validate(e) for e in items], next_cursor=next_cursor)


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=DoNotCallPublic, responses={409: {"model": ErrorPublic}}
)
async def add_do_not_call(data: DoNotCallCreate, session: SessionDep, profile: CurrentProfile) -> DoNotCallPublic:
    """Never call this number again (any format; stored in E.164). Matching pending prospects stop."""
    return DoNotCallPublic.model_validate(await service.add_do_not_call(session, profile, data))


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"model": ErrorPublic}})
async def remove_do_not_call_number(
    session: SessionDep, profile: CurrentProfile, phone_number: Annotated[str, Query(max_length=64)]
) -> Response:
    """Take a number off the list: `DELETE /api/v1/do-not-call?phone_number=612345678`."""
    await service.remove_do_not_call_number(session, profile, _phone_param(phone_number))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{entry_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"model": ErrorPublic}})
async def remove_do_not_call(entry_id: uuid.UUID, session: SessionDep, profile: CurrentProfile) -> Response:
    """Take an entry off the list by its id."""
    await service.remove_do_not_call(session, profile, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
