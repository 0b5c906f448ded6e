"""What every request and response schema shares: the base model, validated field types, pages.

Requests accept snake_case and the seed's camelCase names (`fullName`, `phoneNumber`, ...);
responses are snake_case. Unknown fields are rejected. Validation problems raised here carry an
English sentence (the API's) and a Spanish one (the admin UI's) in the error context, so
`api.services.errors.problems_from_validation_error` can present both.
"""

from __future__ import annotations

import math
from collections.abc import Callable
import re
from datetime import datetime
from typing import Annotated, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from pydantic import (
    AfterValidator,
    AliasChoices,
    AliasGenerator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

DEFAULT_PHONE_REGION = "ES"


def problem(en: str, es: str) -> PydanticCustomError:
    """A validation error with both sentences (raise it from a validator)."""
    return PydanticCustomError("coldcall", "{en}", {"en": en, "es": es})


_MAX_DEPTH = 10


def _check_storable(value: object, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise problem(
            f"The data is nested more than {_MAX_DEPTH} levels deep.",
            f"Los datos tienen más de {_MAX_DEPTH} niveles de anidación.",
        )
    if isinstance(value, str):
        if "\x00" in value:
            raise problem(
                "Text may not contain NUL characters (\\u0000).", "El texto no puede contener caracteres NUL."
            )
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise problem("Numbers must be finite (no NaN or Infinity).", "Los números deben ser finitos.")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key, depth + 1)
            _check_storable(item, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_storable(item, depth + 1)


def _both_names(field_name: str) -> AliasChoices:
    return AliasChoices(field_name, to_camel(field_name))


class RequestModel(BaseModel):
    """Base of every request body: unknown fields rejected, camelCase accepted, strings trimmed."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=AliasGenerator(validation_alias=_both_names),
        str_strip_whitespace=True,
        populate_by_name=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: object) -> object:
        # What JSON allows but the databases refuse (NUL in text, NaN in JSONB) or what nobody
        # means (deep nesting) is refused here, so it can never become a 500 at INSERT time.
        _check_storable(data, 0)
        return data


class PublicModel(BaseModel):
    """Base of every response body, built from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


# --- Field types -----------------------------------------------------------------------------


def normalise_phone(raw: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """E.164 form of a phone number ("612 345 678" -> "+34612345678"); `ValueError` with a sentence
    when it is not a possible, valid number."""
    text = (raw or "").strip()
    if not text:
        raise ValueError("The phone number is empty.")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{text!r} is not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{text!r} is not a valid phone number (write it as +34612345678 or 612 345 678).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _phone(value: str) -> str:
    try:
        return normalise_phone(value)
    except ValueError as exc:
        raise problem(
            str(exc),
            f"«{value.strip()}» no es un número de teléfono válido (escríbelo como +34612345678 o 612 345 678).",
        ) from None


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise problem(
            f"{value!r} is not an IANA time zone (for example Europe/Madrid or Atlantic/Canary).",
            f"«{value}» no es una zona horaria IANA (por ejemplo Europe/Madrid o Atlantic/Canary).",
        ) from None
    if value not in available_timezones() and value != "UTC":
        raise problem(
            f"{value!r} is not an IANA time zone (for example Europe/Madrid or Atlantic/Canary).",
            f"«{value}» no es una zona horaria IANA (por ejemplo Europe/Madrid o Atlantic/Canary).",
        )
    return value


_REGION_RE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


def _region(value: str) -> str:
    value = value.upper()
    if not _REGION_RE.match(value):
        raise problem(
            f"{value!r} is not an ISO 3166-2 region code (for example ES-MD for Madrid or ES-CT for Catalonia).",
            f"«{value}» no es un código de región ISO 3166-2 (por ejemplo ES-MD para Madrid o ES-CT para Cataluña).",
        )
    if value.startswith("ES-"):
        import holidays

        if value[3:] not in holidays.Spain.subdivisions:
            known = ", ".join(f"ES-{s}" for s in holidays.Spain.subdivisions)
            raise problem(
                f"{value!r} is not a Spanish autonomous community; use one of {known}.",
                f"«{value}» no es una comunidad autónoma española; usa una de {known}.",
            )
    return value


def _matching(pattern: str, en: str, es: str) -> Callable[[str], str]:
    """An AfterValidator function that refuses values not matching `pattern` ({value} in the sentences)."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise problem(en.format(value=repr(value)), es.format(value=f"«{value}»"))
        return value

    return check


_email = _matching(
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "{value} is not an e-mail address.",
    "{value} no es una dirección de correo electrónico.",
)
_url = _matching(
    r"^https?://[^\s/]+\.[^\s]+$",
    "{value} is not a web address (it must start with https://).",
    "{value} no es una dirección web (debe empezar por https://).",
)


def _moment(value: datetime) -> datetime:
    # Far dates are typos, and near year 1 or 9999 converting to UTC would overflow.
    if not 2000 <= value.year <= 2200:
        raise problem(
            "The date must fall between the years 2000 and 2200.",
            "La fecha debe estar entre los años 2000 y 2200.",
        )
    return value


#: A phone number, normalised to E.164 (default region ES).
PhoneNumber = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64), AfterValidator(_phone)]
#: An IANA time zone name.
TimeZoneName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64), AfterValidator(_timezone)]
#: An ISO 3166-2 subdivision, e.g. "ES-MD".
RegionCode = Annotated[str, StringConstraints(strip_whitespace=True, max_length=8), AfterValidator(_region)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=320), AfterValidator(_email)]
WebUrl = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2048), AfterValidator(_url)]
#: A timezone-aware date and time between 2000 and 2200 (stored in UTC).
Moment = Annotated[AwareDatetime, AfterValidator(_moment)]
#: A required short name (ICP, campaign, person).
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
#: Free text (descriptions, notes, scripts).
Text = Annotated[str, StringConstraints(max_length=20_000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
#: One item of a list of phrases (pain points, goals, benefits).
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
PhraseList = Annotated[list[Phrase], Field(max_length=50)]


# --- Pages -----------------------------------------------------------------------------------

ItemT = TypeVar("ItemT")

#: Page size bounds of every list endpoint.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class Page(BaseModel, Generic[ItemT]):
    """One page of a list; pass `next_cursor` back as `cursor` to get the next (null: the end)."""

    items: list[ItemT]
    next_cursor: str | None = None


class ProblemPublic(BaseModel):
    """One validation problem: the field (dotted path, empty for the whole body) and two sentences."""

    field: str
    message: str
    message_es: str


class ErrorPublic(BaseModel):
    """The body of every error response."""

    detail: str
    detail_es: str | None = None
    errors: list[ProblemPublic] = []
