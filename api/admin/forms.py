"""From HTML forms to the control plane's request schemas, and its problems back to the fields.

Only the translation between a form's strings and the schema's shapes lives here (one phrase per
line, "clave: texto" lines, checkboxes); every rule is the schema's or the service's, so the admin
UI shows exactly the validation the API applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from api.services.errors import Problem, ValidationProblem, problems_from_validation_error

ModelT = TypeVar("ModelT", bound=BaseModel)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _mapping(field: str, text: str) -> dict[str, str]:
    """"clave: texto" lines into a dict; a line without the colon is a problem on the field."""
    result: dict[str, str] = {}
    for number, line in enumerate(_lines(text), start=1):
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise ValidationProblem.single(
                field,
                f"{field}: line {number} must be 'key: text'.",
                f"La línea {number} debe tener la forma «clave: texto» "
                "(por ejemplo «ya_tenemos_proveedor: Lo entiendo...»).",
            )
        result[key.strip()] = value.strip()
    return result


def form_payload(
    form: FormData,
    fields: Iterable[str],
    *,
    lists: Iterable[str] = (),
    mappings: Iterable[str] = (),
    checkboxes: Iterable[str] = (),
    keep_empty: bool = False,
) -> dict[str, Any]:
    """The schema payload of a form.

    Empty inputs are left out (the schema's default applies) or, with `keep_empty` (an edit form,
    where every field is shown), sent as null to clear the value; lists come one item per line.
    """
    lists, mappings, checkboxes = set(lists), set(mappings), set(checkboxes)
    payload: dict[str, Any] = {}
    for name in fields:
        if name in checkboxes:
            payload[name] = form.get(name) in ("on", "true", "1")
            continue
        raw = form.get(name)
        text = raw if isinstance(raw, str) else ""
        if name in lists:
            payload[name] = _lines(text)
        elif name in mappings:
            payload[name] = _mapping(name, text)
        elif text.strip():
            payload[name] = text
        elif keep_empty:
            payload[name] = None
    return payload


def validate(model: type[ModelT], payload: Mapping[str, Any]) -> ModelT:
    """The schema instance, or a `ValidationProblem` with the schema's own sentences."""
    try:
        return model.model_validate(dict(payload))
    except ValidationError as exc:
        raise ValidationProblem(problems_from_validation_error(exc)) from None


def field_errors(problems: Iterable[Problem]) -> dict[str, str]:
    """Spanish sentence per form field (the first problem of each); whole-form problems under ""."""
    errors: dict[str, str] = {}
    for problem in problems:
        name = problem.field.split(".", 1)[0]
        errors.setdefault(name, problem.message_es)
    return errors


def as_lines(values: Iterable[Any] | None) -> str:
    """A list shown in a textarea, one item per line."""
    return "\n".join(str(v) for v in values or [])


def as_mapping_lines(values: Mapping[str, Any] | None) -> str:
    """A dict shown in a textarea as "clave: texto" lines."""
    return "\n".join(f"{k}: {v}" for k, v in (values or {}).items())
