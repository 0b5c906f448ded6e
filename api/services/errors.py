"""Errors of the service layer, each with an English sentence (API) and a Spanish one (admin UI).

The REST routes turn them into HTTP answers (`api.errors`); the admin UI shows `message_es`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    """One validation problem: the field (dotted path; "" for the whole request) and two sentences."""

    field: str
    message: str
    message_es: str


class ServiceError(Exception):
    """Base of the errors a service function raises for a request it cannot carry out."""

    status_code = 400

    def __init__(self, message: str, message_es: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.message_es = message_es
        self.problems = problems or []


class NotFound(ServiceError):
    """The resource does not exist for this tenant (another tenant's id looks exactly the same)."""

    status_code = 404

    def __init__(self, resource: str, resource_es: str) -> None:
        super().__init__(f"{resource} not found.", f"{resource_es} no encontrado.")


class Conflict(ServiceError):
    """The request is well formed but clashes with the resource's state."""

    status_code = 409


class ValidationProblem(ServiceError):
    """One or more fields hold values the product cannot accept."""

    status_code = 422

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        en = first.message if len(problems) == 1 else f"{len(problems)} fields are invalid: {first.message} ..."
        es = (
            first.message_es
            if len(problems) == 1
            else f"{len(problems)} campos no son válidos: {first.message_es} ..."
        )
        super().__init__(en, es, problems)

    @classmethod
    def single(cls, field: str, message: str, message_es: str) -> ValidationProblem:
        return cls([Problem(field, message, message_es)])


def refuse_nulls(changes: dict, fields: tuple[str, ...]) -> None:
    """A `ValidationProblem` when a partial update sends null for a field that cannot be empty."""
    problems = [
        Problem(
            name,
            f"{name}: this field cannot be null; leave it out to keep its value.",
            "Este campo no puede quedar vacío.",
        )
        for name in fields
        if name in changes and changes[name] is None
    ]
    if problems:
        raise ValidationProblem(problems)


# Spanish sentences for pydantic's own error types (ours carry theirs in the context).
_ES_BY_TYPE = {
    "missing": "Este campo es obligatorio.",
    "extra_forbidden": "Este campo no existe; revisa el nombre.",
    "string_type": "Debe ser un texto.",
    "string_too_short": "No puede estar vacío.",
    "string_too_long": "Es demasiado largo (máximo {max_length} caracteres).",
    "int_type": "Debe ser un número entero.",
    "int_parsing": "Debe ser un número entero.",
    "int_from_float": "Debe ser un número entero.",
    "float_type": "Debe ser un número.",
    "float_parsing": "Debe ser un número.",
    "bool_type": "Debe ser verdadero o falso.",
    "bool_parsing": "Debe ser verdadero o falso.",
    "greater_than_equal": "Debe ser como mínimo {ge}.",
    "greater_than": "Debe ser mayor que {gt}.",
    "less_than_equal": "Debe ser como máximo {le}.",
    "less_than": "Debe ser menor que {lt}.",
    "enum": "Valor no permitido; usa uno de: {expected}.",
    "literal_error": "Valor no permitido; usa uno de: {expected}.",
    "uuid_type": "Debe ser un identificador UUID.",
    "uuid_parsing": "Debe ser un identificador UUID.",
    "datetime_type": "Debe ser una fecha y hora ISO 8601 (por ejemplo 2026-03-02T10:00:00+01:00).",
    "datetime_parsing": "Debe ser una fecha y hora ISO 8601 (por ejemplo 2026-03-02T10:00:00+01:00).",
    "datetime_from_date_parsing": "Debe ser una fecha y hora ISO 8601 (por ejemplo 2026-03-02T10:00:00+01:00).",
    "timezone_aware": "La fecha debe llevar zona horaria (por ejemplo +01:00 o Z).",
    "list_type": "Debe ser una lista.",
    "dict_type": "Debe ser un objeto JSON.",
    "model_type": "Debe ser un objeto JSON.",
    "model_attributes_type": "Debe ser un objeto JSON.",
    "too_long": "Tiene demasiados elementos (máximo {max_length}).",
    "too_short": "Tiene muy pocos elementos (mínimo {min_length}).",
    "json_invalid": "El cuerpo de la petición no es JSON válido.",
    "json_type": "El cuerpo de la petición no es JSON válido.",
}


def _field_path(loc: tuple) -> str:
    # FastAPI prefixes "body"/"query"/"path"; the person cares about the field itself.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts)


def problems_from_errors(errors: list[dict]) -> list[Problem]:
    """Turn pydantic error dicts (from `ValidationError.errors()` or FastAPI) into problems."""
    problems: list[Problem] = []
    for err in errors:
        field = _field_path(tuple(err.get("loc", ())))
        ctx = err.get("ctx") or {}
        if err.get("type") == "coldcall":
            problems.append(Problem(field, f"{field}: {ctx['en']}" if field else ctx["en"], ctx["es"]))
            continue
        if err.get("type") in ("json_invalid", "json_type"):
            # FastAPI puts the character position in `loc`; it is not a field.
            problems.append(Problem("", "The request body is not valid JSON.", _ES_BY_TYPE["json_invalid"]))
            continue
        if not field and err.get("type") in ("model_attributes_type", "dict_type", "model_type"):
            es = "El cuerpo de la petición debe ser un objeto JSON."
            problems.append(Problem("", "The request body must be a JSON object.", es))
            continue
        message = err.get("msg", "Invalid value.")
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        template = _ES_BY_TYPE.get(err.get("type", ""), "Valor no válido.")
        try:
            message_es = template.format(**{k: str(v).replace(" or ", " o ") for k, v in ctx.items()})
        except (KeyError, IndexError):
            message_es = "Valor no válido."
        en = f"{field}: {message}" if field else message
        if not en.endswith("."):
            en += "."
        problems.append(Problem(field, en, message_es))
    return problems


def problems_from_validation_error(exc: ValidationError) -> list[Problem]:
    """The problems of a pydantic `ValidationError` (the admin UI builds its forms' errors from it)."""
    return problems_from_errors(exc.errors(include_url=False))
