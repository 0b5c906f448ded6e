"""Prospect service: single prospects and CSV imports (API, admin UI and CLI).

Phone numbers are stored in E.164 (phonenumbers, default region ES). A new prospect is due at once
(`next_call_at` = now); a number on the tenant's do-not-call list is stored as `do_not_call`.
`consent_basis` is optional here, but the dialer never calls a prospect without one.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import uuid
from datetime import timedelta
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.common import DEFAULT_PAGE_SIZE
from api.schemas.prospects import ImportRowError, ProspectCreate, ProspectImportReport, ProspectUpdate
from api.services.campaigns import get_campaign
from api.services.errors import Conflict, ValidationProblem, problems_from_validation_error, refuse_nulls
from api.services.ownership import get_owned
from api.services.pagination import paginate
from bot.clock import Clock
from db.models import CallSequenceStatus, Campaign, CampaignStatus, Client, DoNotCallNumber, Profile, Prospect

#: How many row errors an import report lists (the count of the rest is given).
MAX_REPORTED_ERRORS = 1000
_INSERT_BATCH = 1000

#: CSV header (lower case, accents and separators removed) -> field. Also the seed's camelCase
#: and the Spanish column names people use in spreadsheets.
_HEADER_ALIASES: dict[str, str] = {
    "fullname": "full_name", "name": "full_name", "nombre": "full_name", "nombrecompleto": "full_name",
    "nombreyapellidos": "full_name", "contacto": "full_name",
    "phonenumber": "phone_number", "phone": "phone_number", "telefono": "phone_number", "movil": "phone_number",
    "tel": "phone_number", "numero": "phone_number",
    "company": "company", "empresa": "company", "compania": "company",
    "role": "role", "cargo": "role", "puesto": "role", "title": "role",
    "email": "email", "correo": "email", "correoelectronico": "email", "mail": "email",
    "linkedinurl": "linkedin_url", "linkedin": "linkedin_url",
    "notes": "notes", "notas": "notes", "observaciones": "notes",
    "region": "region", "comunidad": "region", "comunidadautonoma": "region",
    "timezone": "timezone", "zonahoraria": "timezone",
    "consentbasis": "consent_basis", "consentimiento": "consent_basis", "baselegal": "consent_basis",
}
#: Consent values as spreadsheets write them (normalised like headers) -> `ConsentBasis` value.
_CONSENT_ALIASES: dict[str, str] = {
    "consent": "consent", "consentimiento": "consent", "si": "consent",
    "legitimateinterest": "legitimate_interest", "intereslegitimo": "legitimate_interest",
    "existingcustomer": "existing_customer", "clienteexistente": "existing_customer", "cliente": "existing_customer",
}
_CLOSED_STATUSES = (CampaignStatus.completed, CampaignStatus.archived)


def _header_key(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in plain if ch.isalnum())


def _open_campaign_check(campaign: Campaign) -> None:
    if campaign.status in _CLOSED_STATUSES:
        raise Conflict(
            f"The campaign is {campaign.status.value}; prospects can no longer be added to it.",
            "La campaña está cerrada; ya no se le pueden añadir prospectos.",
        )


async def _suppressed(session: AsyncSession, profile: Profile, numbers: set[str]) -> set[str]:
    if not numbers:
        return set()
    found: set[str] = set()
    ordered = sorted(numbers)
    for i in range(0, len(ordered), _INSERT_BATCH):
        chunk = ordered[i : i + _INSERT_BATCH]
        rows = await session.scalars(
            select(DoNotCallNumber.phone_number).where(
                DoNotCallNumber.user_id == profile.id, DoNotCallNumber.phone_number.in_(chunk)
            )
        )
        found.update(rows)
    return found


async def _check_client(session: AsyncSession, profile: Profile, client_id: uuid.UUID | None) -> None:
    if client_id is None:
        return
    exists = await session.scalar(select(Client.id).where(Client.id == client_id, Client.user_id == profile.id))
    if exists is None:
        raise ValidationProblem.single(
            "client_id",
            "client_id: there is no client with this id.",
            "No existe ningún cliente con este identificador.",
        )


async def _phone_taken(
    session: AsyncSession, campaign_id: uuid.UUID, phone: str, exclude: uuid.UUID | None = None
) -> bool:
    stmt = select(Prospect.id).where(Prospect.campaign_id == campaign_id, Prospect.phone_number == phone)
    if exclude is not None:
        stmt = stmt.where(Prospect.id != exclude)
    return (await session.scalar(stmt)) is not None


def _duplicate_phone() -> Conflict:
    return Conflict(
        "A prospect with this phone number is already in the campaign.",
        "Ya hay un prospecto con este número de teléfono en la campaña.",
    )


async def list_prospects(
    session: AsyncSession,
    profile: Profile,
    campaign_id: uuid.UUID,
    *,
    status: CallSequenceStatus | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> tuple[Sequence[Prospect], str | None]:
    """The campaign's prospects in the order they were added, and the cursor of the next page."""
    await get_campaign(session, profile, campaign_id)
    stmt = select(Prospect).where(Prospect.campaign_id == campaign_id, Prospect.user_id == profile.id)
    if status is not None:
        stmt = stmt.where(Prospect.status == status)
    return await paginate(
        session,
        stmt,
        created_col=Prospect.created_at,
        id_col=Prospect.id,
        limit=limit,
        cursor=cursor,
        newest_first=False,
    )


async def get_prospect(
    session: AsyncSession, profile: Profile, prospect_id: uuid.UUID, *, for_update: bool = False
) -> Prospect:
    """The tenant's prospect; `NotFound` for a missing one and for another tenant's."""
    return await get_owned(
        session, Prospect, profile, prospect_id, name=("Prospect", "Prospecto"), for_update=for_update
    )


async def create_prospect(
    session: AsyncSession, profile: Profile, campaign_id: uuid.UUID, data: ProspectCreate, *, clock: Clock
) -> Prospect:
    """Add one prospect to a campaign, due now (or `do_not_call` when the number is suppressed)."""
    campaign = await get_campaign(session, profile, campaign_id)
    if data.campaign_id is not None and data.campaign_id != campaign_id:
        raise ValidationProblem.single(
            "campaign_id",
            "campaign_id: the body names another campaign than the URL; leave it out or make them equal.",
            "La campaña del cuerpo no coincide con la de la dirección.",
        )
    _open_campaign_check(campaign)
    await _check_client(session, profile, data.client_id)
    if await _phone_taken(session, campaign_id, data.phone_number):
        raise _duplicate_phone()
    suppressed = await _suppressed(session, profile, {data.phone_number})
    values = data.model_dump(exclude={"campaign_id"})
    prospect = Prospect(
        user_id=profile.id,
        campaign_id=campaign_id,
        status=CallSequenceStatus.do_not_call if suppressed else CallSequenceStatus.pending,
        next_call_at=None if suppressed else clock.now(),
        **values,
    )
    session.add(prospect)
    await session.commit()
    await session.refresh(prospect)
    return prospect


_SETTABLE_STATUSES = (
    CallSequenceStatus.pending,
    CallSequenceStatus.scheduled,
    CallSequenceStatus.completed,
    CallSequenceStatus.do_not_call,
)


async def update_prospect(
    session: AsyncSession, profile: Profile, prospect_id: uuid.UUID, data: ProspectUpdate, *, clock: Clock
) -> Prospect:
    """Apply the fields that were sent (see `ProspectUpdate` for what `status` may be set to)."""
    prospect = await get_prospect(session, profile, prospect_id, for_update=True)
    changes = data.model_dump(exclude_unset=True)
    refuse_nulls(changes, ("full_name", "phone_number", "status", "is_qualified", "is_converted"))
    if "custom_fields" in changes and changes["custom_fields"] is None:
        changes["custom_fields"] = {}
    status = changes.get("status")
    if status is not None and status not in _SETTABLE_STATUSES:
        raise ValidationProblem.single(
            "status",
            f"status: {status.value} is set by the dialer; use one of "
            + ", ".join(s.value for s in _SETTABLE_STATUSES)
            + ".",
            "Ese estado lo pone el marcador automático; usa pendiente, programado, completado o no llamar.",
        )
    if status is not None and prospect.status == CallSequenceStatus.in_progress and status != prospect.status:
        raise Conflict(
            "The prospect is on a call right now; change its status after the call.",
            "El prospecto está en una llamada ahora mismo; cambia su estado cuando termine.",
        )
    if "phone_number" in changes and changes["phone_number"] != prospect.phone_number:
        if await _phone_taken(session, prospect.campaign_id, changes["phone_number"], exclude=prospect.id):
            raise _duplicate_phone()
    if "client_id" in changes:
        await _check_client(session, profile, changes["client_id"])
    now = clock.now()
    if changes.get("is_converted") is True and not prospect.is_converted:
        prospect.converted_at = now
    elif changes.get("is_converted") is False:
        prospect.converted_at = None
    for key, value in changes.items():
        setattr(prospect, key, value)
    if status in (CallSequenceStatus.pending, CallSequenceStatus.scheduled) and "next_call_at" not in changes:
        # Re-queued: due at the callback time if one was given, else at once.
        prospect.next_call_at = changes.get("callback_at") or now
    elif status in (CallSequenceStatus.completed, CallSequenceStatus.do_not_call):
        prospect.next_call_at = None
    await session.commit()
    await session.refresh(prospect)
    return prospect


async def delete_prospect(session: AsyncSession, profile: Profile, prospect_id: uuid.UUID) -> None:
    """Delete the prospect; its call logs stay (with no prospect)."""
    prospect = await get_prospect(session, profile, prospect_id, for_update=True)
    if prospect.status == CallSequenceStatus.in_progress:
        raise Conflict(
            "The prospect is on a call right now; delete it after the call.",
            "El prospecto está en una llamada ahora mismo; bórralo cuando termine.",
        )
    await session.delete(prospect)
    await session.commit()


# --- CSV import ---------------------------------------------------------------------------------


def decode_csv(content: bytes) -> str:
    """The text of an uploaded CSV: UTF-8 (with or without BOM), else Windows-1252/Latin-1."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Spreadsheets saved "as CSV" on Windows use cp1252, a superset of Latin-1's printable range.
        return content.decode("cp1252")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _row_error(line: int, problems: list) -> ImportRowError:
    return ImportRowError(
        line=line,
        reason="; ".join(p.message for p in problems),
        reason_es="; ".join(p.message_es for p in problems),
    )


async def import_prospects_csv(
    session: AsyncSession, profile: Profile, campaign_id: uuid.UUID, content: bytes, *, clock: Clock
) -> ProspectImportReport:
    """Import a CSV (UTF-8 or Latin-1, comma or semicolon, header row required).

    Valid rows are imported; each bad row is reported with its line number and reason; rows whose
    phone number is already in the campaign (or earlier in the file) are skipped and counted.
    Unknown columns go to `custom_fields`.
    """
    campaign = await get_campaign(session, profile, campaign_id)
    _open_campaign_check(campaign)
    text = decode_csv(content)
    if "\x00" in text:
        raise ValidationProblem.single(
            "file", "file: this is not a CSV text file.", "El archivo no es un CSV de texto."
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        header = []
    columns = [_HEADER_ALIASES.get(_header_key(name), None) for name in header]
    missing = [f for f in ("full_name", "phone_number") if f not in columns]
    if not header or missing:
        raise ValidationProblem.single(
            "file",
            "file: the first line must name the columns, with at least full_name and phone_number "
            f"(missing: {', '.join(missing or ['full_name', 'phone_number'])}).",
            "La primera línea debe tener los nombres de las columnas, al menos nombre y teléfono "
            "(full_name y phone_number).",
        )

    existing = set(await session.scalars(select(Prospect.phone_number).where(Prospect.campaign_id == campaign_id)))
    seen: set[str] = set()
    valid: list[dict[str, Any]] = []
    errors: list[ImportRowError] = []
    total = duplicates = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            total += 1
            errors.append(
                ImportRowError(
                    line=reader.line_num,
                    reason=f"The line cannot be read as CSV ({exc}).",
                    reason_es="La línea no se puede leer como CSV.",
                )
            )
            continue
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        total += 1
        values: dict[str, Any] = {}
        custom: dict[str, str] = {}
        for name, field, cell in zip(header, columns, row, strict=False):
            cell = cell.strip()
            if not cell:
                continue
            if field is None:
                custom[name.strip()] = cell
            else:
                values[field] = cell
        if len(row) > len(header):
            errors.append(
                ImportRowError(
                    line=line,
                    reason=f"The row has {len(row)} cells but the header names {len(header)} columns.",
                    reason_es=f"La fila tiene {len(row)} celdas pero la cabecera nombra {len(header)} columnas.",
                )
            )
            continue
        if custom:
            values["custom_fields"] = custom
        if "consent_basis" in values:
            raw = values["consent_basis"]
            values["consent_basis"] = _CONSENT_ALIASES.get(_header_key(raw), raw)
        try:
            data = ProspectCreate.model_validate(values)
        except ValidationError as exc:
            errors.append(_row_error(line, problems_from_validation_error(exc)))
            continue
        if data.phone_number in existing or data.phone_number in seen:
            duplicates += 1
            continue
        seen.add(data.phone_number)
        valid.append(data.model_dump(exclude={"campaign_id", "client_id"}))

    suppressed = await _suppressed(session, profile, seen)
    now = clock.now()
    def status_of(phone: str) -> CallSequenceStatus:
        return CallSequenceStatus.do_not_call if phone in suppressed else CallSequenceStatus.pending

    rows = [
        {
            **values,
            "id": uuid.uuid4(),
            "user_id": profile.id,
            "campaign_id": campaign_id,
            "status": status_of(values["phone_number"]),
            "next_call_at": None if values["phone_number"] in suppressed else now,
            # A microsecond apart, so the campaign lists them in the file's order.
            "created_at": now + timedelta(microseconds=i),
            "updated_at": now,
        }
        for i, values in enumerate(valid)
    ]
    for i in range(0, len(rows), _INSERT_BATCH):
        await session.execute(insert(Prospect), rows[i : i + _INSERT_BATCH])
    await session.commit()
    return ProspectImportReport(
        total_rows=total,
        imported=len(rows),
        skipped_duplicates=duplicates,
        errors=errors[:MAX_REPORTED_ERRORS],
        errors_omitted=max(0, len(errors) - MAX_REPORTED_ERRORS),
    )
