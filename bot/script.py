"""Script generator with the Humanizer Engine: the words the bot opens a call with.

`ScriptGenerator.generate_script(icp, prospect, campaign)` fills the campaign's template
(``{{first_name}}``, ``{{company}}``, ...) from the prospect and the ICP and, with
``inject_reality=True``, prepends an opener that fits the prospect's moment: a tax deadline week,
August, Christmas, a bridge day, a Monday morning... (`bot.calendar.detect_contexts`).

Missing values never leave "None" or a gap: a missing name is simply not said, a missing company
becomes "tu empresa", and any other missing value drops its clause (or its sentence).

The opener variant is chosen by a hash of the prospect, the local date and the context, so the
same prospect hears the same opener if the script is rendered twice that day (the dialer renders
it when dialling, the bot again at media start), and different prospects hear different ones.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loguru import logger

from bot.calendar import MomentContext, detect_contexts
from bot.clock import Clock
from bot.policy import prospect_calendar, prospect_timezone

#: Every placeholder a script template may use. The API validates templates against this set.
KNOWN_PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "first_name",
        "last_name",
        "full_name",
        "company",
        "role",
        "pain_point",
        "value_proposition",
        "key_benefit",
        "industry",
        "goal",
        "challenge",
    }
)

_PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

#: Said when the campaign and the ICP have no template of their own.
DEFAULT_TEMPLATE = (
    "Hola {{first_name}}, te llamo brevemente. Vi que en {{company}} {{pain_point}}. "
    "{{value_proposition}}. ¿Tienes un par de minutos para que te lo cuente?"
)
#: Said when every sentence of a template depended on missing values.
MINIMAL_SCRIPT = "Hola, ¿tienes un par de minutos?"

#: Names are vocatives: when missing they are simply not said ("Hola, soy..." instead of "Hola None").
_NAME_PLACEHOLDERS = frozenset({"first_name", "last_name", "full_name"})
#: Neutral words that read naturally where a missing value stood.
_NEUTRAL_FALLBACKS = {"company": "tu empresa", "industry": "tu sector"}
#: Values that are common nouns in Spanish and so lower-case inside a sentence.
_LOWER_INSIDE = frozenset({"role", "pain_point", "value_proposition", "key_benefit", "industry", "goal", "challenge"})

#: Spanish labels of the ICP industries (`db.models.IcpIndustry`); "other" says nothing.
INDUSTRY_LABELS: dict[str, str] = {
    "technology": "tecnología",
    "saas": "software",
    "ecommerce": "comercio electrónico",
    "retail": "comercio minorista",
    "manufacturing": "industria",
    "logistics": "logística",
    "construction": "construcción",
    "real_estate": "sector inmobiliario",
    "finance": "finanzas",
    "insurance": "seguros",
    "healthcare": "salud",
    "education": "educación",
    "hospitality": "hostelería",
    "professional_services": "servicios profesionales",
    "marketing": "marketing",
    "legal": "sector legal",
    "energy": "energía",
    "agriculture": "agricultura",
    "public_sector": "sector público",
}

#: First words that already make a pain point a clause ("pierden leads", "no tienen CRM").
_CLAUSE_STARTS = frozenset(
    """tienen tiene no les le pierden pierde dedican dedica gastan gasta sufren sufre necesitan necesita
    hacen hace usan usa utilizan utiliza trabajan trabaja dependen depende buscan busca quieren quiere
    están está siguen sigue llevan lleva carecen carece cuentan cuenta pasan pasa invierten invierte
    tardan tarda gestionan gestiona manejan maneja venden vende cuesta cuestan hay han ha son es
    apenas todavía aún siempre nunca solo sólo""".split()
)

_HONORIFICS = frozenset({"sr", "sr.", "sra", "sra.", "srta", "srta.", "dr", "dr.", "dra", "dra.", "d.", "dña", "dña.", "don", "doña"})

_GREETINGS = {"morning": "Buenos días", "afternoon": "Buenas tardes", "evening": "Buenas noches"}

#: Opener variants per context ("<key>" or "<fiscal key>:deadline|window"). "{saludo}" is the
#: greeting of the part of the day. Informal "tú", as the seed's lines are.
OPENERS: dict[str, tuple[str, ...]] = {
    "fiscal_quarterly:deadline": (
        "Sé que esta semana es complicada con el tema de impuestos. Seré breve.",
        "Sé que estos días andáis liados con el IVA y las retenciones del trimestre, así que seré breve.",
        "Imagino que esta semana tenéis encima la declaración trimestral; te robo solo un minuto.",
    ),
    "fiscal_quarterly:window": (
        "Sé que estáis en pleno trimestre de impuestos, con el IVA y las retenciones. Seré breve.",
        "Imagino que estos días andas con los modelos trimestrales, así que te robo solo un minuto.",
        "Sé que en plena campaña del IVA trimestral el tiempo vale oro. Seré breve.",
    ),
    "fiscal_annual_vat:deadline": (
        "Sé que esta semana es complicada con el cierre del IVA y el resumen anual. Seré breve.",
        "Imagino que estos días estáis liados con el IVA del año, así que te robo solo un minuto.",
        "Sé que se acaba el plazo del IVA anual y vais a tope. Seré breve.",
    ),
    "fiscal_annual_vat:window": (
        "Sé que enero viene cargado con el cierre del IVA y el resumen anual. Seré breve.",
        "Imagino que andas con el cierre fiscal del año, así que te robo solo un minuto.",
        "Sé que estas semanas toca cerrar el IVA del año. Seré breve.",
    ),
    "fiscal_renta:deadline": (
        "Sé que estos son los últimos días de la campaña de la renta. Seré breve.",
        "Imagino que con el final de la renta esta semana vais a tope, así que te robo solo un minuto.",
        "Sé que esta semana es complicada con el cierre de la renta. Seré breve.",
    ),
    "fiscal_renta:window": (
        "Sé que estamos en plena campaña de la renta, así que seré breve.",
        "Imagino que con la campaña de la renta tienes mucho lío; te robo solo un minuto.",
        "Sé que la campaña de la renta os tiene ocupados. Seré breve.",
    ),
    "fiscal_corporate:deadline": (
        "Sé que esta semana es complicada con el impuesto de sociedades. Seré breve.",
        "Imagino que estos días estáis cerrando el impuesto de sociedades, así que te robo solo un minuto.",
        "Sé que se acaba el plazo del impuesto de sociedades. Seré breve.",
    ),
    "fiscal_corporate:window": (
        "Sé que julio viene cargado con el impuesto de sociedades. Seré breve.",
        "Imagino que andas con el impuesto de sociedades, así que te robo solo un minuto.",
        "Sé que en julio toca el impuesto de sociedades y el tiempo vale oro. Seré breve.",
    ),
    "christmas_eve": (
        "Sé que hoy es Nochebuena, así que seré muy breve.",
        "Antes de nada, feliz Nochebuena. Te robo solo un minuto.",
        "Sé que en Nochebuena nadie quiere llamadas largas; seré muy breve.",
    ),
    "new_years_eve": (
        "Sé que hoy es Nochevieja, así que seré muy breve.",
        "Antes de nada, feliz salida de año. Te robo solo un minuto.",
        "Sé que hoy es el último día del año; seré muy breve.",
    ),
    "christmas": (
        "Sé que con las fiestas navideñas todo va a mil, así que seré breve.",
        "Antes de nada, felices fiestas. Seré breve.",
        "Sé que en Navidad la agenda se complica; te robo solo un minuto.",
    ),
    "semana_santa": (
        "Sé que estamos en Semana Santa, así que seré breve.",
        "Ya sé que en Semana Santa apetece desconectar; te robo solo un minuto.",
        "Sé que con la Semana Santa mucha gente está fuera. Seré breve.",
    ),
    "august": (
        "Sé que estamos en agosto, pero quería comentarte brevemente algo.",
        "Ya sé que en agosto medio país está de vacaciones, así que seré breve.",
        "Sé que agosto es mes de vacaciones; te robo solo un minuto.",
    ),
    "holiday": (
        "Sé que hoy es festivo, así que seré muy breve.",
        "Perdona que te llame en un día festivo; te robo solo un minuto.",
        "Sé que hoy es fiesta. Seré muy breve.",
    ),
    "weekend": (
        "Sé que es fin de semana, así que seré muy breve.",
        "Perdona que te llame en fin de semana; te robo solo un minuto.",
        "{saludo}. Sé que es fin de semana, así que seré breve.",
    ),
    "bridge_day": (
        "Sé que hoy mucha gente está de puente, así que seré breve.",
        "Gracias por atenderme en pleno puente; te robo solo un minuto.",
        "Sé que es día de puente. Seré breve.",
    ),
    "holiday_eve": (
        "Sé que mañana es festivo y querrás dejarlo todo cerrado, así que seré breve.",
        "Antes del festivo de mañana, te robo solo un minuto.",
        "Con el festivo de mañana a la vuelta de la esquina, seré breve.",
    ),
    "holiday_after": (
        "Espero que hayas disfrutado del festivo. Seré breve.",
        "Espero que el festivo te sirviera para descansar. Te robo solo un minuto.",
        "{saludo}. Espero que hayas disfrutado del festivo.",
    ),
    "monday": (
        "{saludo} y buen inicio de semana.",
        "{saludo}. Buen inicio de semana; te robo solo un minuto.",
        "{saludo}. Espero que la semana haya empezado bien.",
    ),
    "friday": (
        "Feliz viernes. ¿Tienes dos minutos?",
        "{saludo} y feliz viernes. ¿Tienes dos minutos?",
        "{saludo}. Feliz viernes; te robo solo dos minutos antes del fin de semana.",
    ),
    "morning": (
        "Buenos días.",
        "Muy buenos días.",
        "Buenos días, espero que vaya bien la mañana.",
    ),
    "afternoon": (
        "Buenas tardes.",
        "Muy buenas tardes.",
        "Buenas tardes, espero que vaya bien el día.",
    ),
    "evening": (
        "Buenas noches.",
        "Buenas noches, perdona la hora. Seré breve.",
        "Buenas noches; te robo solo un minuto.",
    ),
}


def find_placeholders(template: str | None) -> set[str]:
    """The names used as ``{{ name }}`` in a template (whitespace inside the braces ignored)."""
    if not template:
        return set()
    return {m.group(1) for m in _PLACEHOLDER_RE.finditer(template)}


def unknown_placeholders(template: str | None) -> list[str]:
    """Placeholders of a template that no script can fill, sorted (empty when the template is fine)."""
    return sorted(find_placeholders(template) - KNOWN_PLACEHOLDERS)


# --- Reading ORM objects and dicts alike -------------------------------------------------------


class _View:
    """Attribute access over a dict, None for what is missing (so dicts pass where models do)."""

    def __init__(self, data: Mapping[str, Any] | None) -> None:
        self._data = data or {}

    def __getattr__(self, name: str) -> Any:
        return self._data.get(name)


def _as_view(obj: Any) -> Any:
    if obj is None or isinstance(obj, Mapping):
        return _View(obj)
    return obj


def _text(value: Any) -> str | None:
    """A clean, one-line string, or None for missing/blank/"None"-like values."""
    if value is None:
        return None
    if hasattr(value, "value") and not isinstance(value, str):  # enums
        value = value.value
    text = " ".join(str(value).replace("{", "").replace("}", "").split())
    if not text or text.lower() in {"none", "null", "nan", "n/a", "-"}:
        return None
    return text


def _first(items: Any) -> str | None:
    if isinstance(items, (list, tuple)):
        for item in items:
            if (text := _text(item)) is not None:
                return text
        return None
    return _text(items)


def _tidy_name(name: str) -> str:
    # CSV imports often shout ("MARÍA LÓPEZ") or whisper ("maría lópez"): say it as a name.
    if name.isupper() or name.islower():
        return " ".join(part[:1].upper() + part[1:].lower() for part in name.split())
    return name


def _split_name(full_name: str | None) -> tuple[str | None, str | None]:
    if not full_name:
        return None, None
    parts = [p for p in full_name.split() if p.lower() not in _HONORIFICS]
    if not parts:
        return None, None
    return parts[0], (" ".join(parts[1:]) or None)


def placeholder_values(icp: Any, prospect: Any, campaign: Any) -> dict[str, str | None]:
    """What each placeholder says for this prospect; None where nothing is known.

    A prospect's ``custom_fields`` may override any placeholder (e.g. its own ``pain_point``).
    """
    icp, prospect, campaign = _as_view(icp), _as_view(prospect), _as_view(campaign)
    full_name = _text(prospect.full_name)
    full_name = _tidy_name(full_name) if full_name else None
    first_name, last_name = _split_name(full_name)
    industry = _text(icp.industry)
    values: dict[str, str | None] = {
        "first_name": first_name,
        "last_name": last_name,
        "full_name": full_name,
        "company": _text(prospect.company),
        "role": _text(prospect.role),
        "pain_point": _first(icp.pain_points),
        "value_proposition": _text(icp.value_proposition),
        "key_benefit": _first(icp.key_benefits),
        "industry": INDUSTRY_LABELS.get(industry, industry) if industry and industry != "other" else None,
        "goal": _text(campaign.goal) or _first(icp.goals),
        "challenge": _first(icp.challenges),
    }
    custom = prospect.custom_fields
    if isinstance(custom, Mapping):
        for key, value in custom.items():
            if key in KNOWN_PLACEHOLDERS and (text := _text(value)) is not None:
                values[key] = text
                if key == "full_name" and "first_name" not in custom:
                    values["first_name"], values["last_name"] = _split_name(text)
    return values


# --- Rendering a template ------------------------------------------------------------------------

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])\s+")
_CLAUSE_SPLIT = re.compile(r"\s*[,;]\s*")
_TRAILING_PUNCT = re.compile(r"^(.*?)([.!?…]*)$", re.S)


def _lower_first(text: str) -> str:
    first_word = text.split()[0]
    # Acronyms and brands keep their case ("CRM desactualizado", "SaaS").
    if len(first_word) > 1 and (first_word.isupper() or any(c.isupper() for c in first_word[1:])):
        return text
    return text[:1].lower() + text[1:]


def _is_capitalized(word: str) -> bool:
    return word[:1].isupper() and (len(word) == 1 or word[1:].islower())


def _lower_inside(text: str, *, title: bool) -> str:
    """A common noun phrase for the middle of a sentence: "Directora Comercial" -> "directora comercial".

    Title-cased phrases (or any `title` value, such as roles) lose every capital of a plain
    capitalised word; acronyms and brands ("CEO", "SaaS", "EMEA") keep theirs.
    """
    words = text.split(" ")
    long_words = [w for w in words if len(w) > 3 and w[:1].isalpha()]
    if title or (len(long_words) > 1 and all(_is_capitalized(w) for w in long_words)):
        return " ".join(w.lower() if _is_capitalized(w) else w for w in words)
    return _lower_first(text)


def _upper_first(text: str) -> str:
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1 :]
        if ch not in "¿¡\"'«(":
            return text
    return text


def _as_clause(pain_point: str) -> str:
    """"Prospección manual" -> "tienen prospección manual"; "pierden leads" stays a clause."""
    lowered = _lower_inside(pain_point, title=False)
    if lowered.split()[0].lower() in _CLAUSE_STARTS:
        return lowered
    return f"tienen {lowered}"


def _drop_placeholder_clause(sentence: str, name: str) -> str | None:
    """The sentence without the comma clause holding `{{name}}`, or None to drop it whole."""
    match = _TRAILING_PUNCT.match(sentence)
    body, end = match.group(1), match.group(2)
    clauses = _CLAUSE_SPLIT.split(body)
    if len(clauses) <= 1:
        return None
    kept = [c for c in clauses if name not in find_placeholders(c)]
    if not kept or not any(c.strip() for c in kept):
        return None
    # A question keeps its opening mark even if the clause that had it goes.
    if "¿" in body and not any("¿" in c for c in kept):
        kept[0] = "¿" + kept[0]
    if "¡" in body and not any("¡" in c for c in kept):
        kept[0] = "¡" + kept[0]
    return ", ".join(kept) + end


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.;:!?…])", r"\1", text)
    text = re.sub(r"([¿¡])\s+", r"\1", text)
    text = re.sub(r",\s*,+", ",", text)
    text = re.sub(r",([.!?…;:])", r"\1", text)
    text = re.sub(r"^[,;:]\s*", "", text)
    text = re.sub(r"([¿¡])[,;]\s*", r"\1", text)
    text = re.sub(r"\.{4,}", "...", text)
    return text.strip()


def render_template(template: str, values: Mapping[str, str | None]) -> str:
    """Fill a template; missing values are left unsaid without leaving a gap (see module docstring)."""
    sentences = _SENTENCE_SPLIT.split(template.strip())
    rendered: list[str] = []
    for sentence in sentences:
        current: str | None = sentence
        for name in sorted(find_placeholders(sentence)):
            if current is None:
                break
            if values.get(name) is None and name not in _NAME_PLACEHOLDERS and name not in _NEUTRAL_FALLBACKS:
                if name not in KNOWN_PLACEHOLDERS:
                    logger.warning("Script template uses an unknown placeholder; its clause is left out")
                current = _drop_placeholder_clause(current, name)
        if current is None:
            continue
        rendered.append(_fill_sentence(current, values))
    text = " ".join(s for s in rendered if s)
    return text


def _fill_sentence(sentence: str, values: Mapping[str, str | None]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name)
        neutral = value is None and name in _NEUTRAL_FALLBACKS
        if value is None:
            value = _NEUTRAL_FALLBACKS.get(name, "")
            if not value:
                return ""
        before = sentence[: match.start()]
        at_start = not re.search(r"[^\s¿¡\"'«(]", before)
        if name == "pain_point" and re.search(r"\{\{\s*company\s*\}\}\s*$", before):
            return _as_clause(value)
        if name in _LOWER_INSIDE or neutral:
            return _upper_first(value) if at_start else _lower_inside(value, title=name == "role")
        return _upper_first(value) if at_start else value

    filled = _tidy(_PLACEHOLDER_RE.sub(replace, sentence))
    return _upper_first(filled) if filled else ""


# --- Humanizer Engine ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opener:
    """The sentence the Humanizer puts before the script, and the context it answers to."""

    context: MomentContext
    text: str


@dataclass(frozen=True, slots=True)
class RenderedScript:
    """A script ready to say: the full `text`, and the opener (None when reality was not injected)."""

    text: str
    body: str
    opener: Opener | None


def _stable_index(seed: str, size: int) -> int:
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % size


def _prospect_identity(prospect: Any) -> str:
    view = _as_view(prospect)
    for attr in ("id", "phone_number", "full_name"):
        if value := getattr(view, attr, None):
            return str(value)
    return ""


class HumanizerEngine:
    """Picks an opener for a prospect's moment: the strongest detected context, a stable variant."""

    @staticmethod
    def local_moment(prospect: Any, campaign: Any, now: datetime) -> tuple[datetime, str, str | None]:
        """The moment in the prospect's time zone, with the country and region whose calendar applies."""
        if now.tzinfo is None:
            raise ValueError("now must be a timezone-aware datetime")
        p, c = _as_view(prospect), _as_view(campaign)
        zone = prospect_timezone(p, c)
        country, subdivision = prospect_calendar(p, zone)
        return now.astimezone(zone), country, subdivision

    @staticmethod
    def contexts(prospect: Any, campaign: Any, now: datetime) -> list[MomentContext]:
        """Every context of the prospect's moment, strongest first (greeting last)."""
        local, country, subdivision = HumanizerEngine.local_moment(prospect, campaign, now)
        role = _text(_as_view(prospect).role)
        return detect_contexts(local, role=role, country=country, subdivision=subdivision)

    @staticmethod
    def opener(prospect: Any, campaign: Any, now: datetime) -> Opener:
        """The opener for this prospect now: strongest context, variant stable per prospect and day."""
        local, country, subdivision = HumanizerEngine.local_moment(prospect, campaign, now)
        role = _text(_as_view(prospect).role)
        contexts = detect_contexts(local, role=role, country=country, subdivision=subdivision)
        chosen = contexts[0]
        variants_key = chosen.key
        if chosen.key.startswith("fiscal_"):
            variants_key = f"{chosen.key}:{'deadline' if chosen.detail.get('deadline_week') else 'window'}"
        variants = OPENERS[variants_key]
        greeting = _GREETINGS[contexts[-1].key]
        seed = f"{_prospect_identity(prospect)}|{local.date().isoformat()}|{variants_key}"
        text = variants[_stable_index(seed, len(variants))].format(saludo=greeting)
        return Opener(context=chosen, text=text)


class ScriptGenerator:
    """Turns an ICP, a prospect and a campaign into the words the bot opens the call with."""

    @staticmethod
    def template_for(icp: Any, campaign: Any) -> str:
        """The campaign's template, else the ICP's call script, else the built-in default."""
        return (
            _text_block(_as_view(campaign).script_template)
            or _text_block(_as_view(icp).call_script)
            or DEFAULT_TEMPLATE
        )

    @staticmethod
    def render(
        icp: Any,
        prospect: Any,
        campaign: Any,
        inject_reality: bool = True,
        now: datetime | None = None,
    ) -> RenderedScript:
        """Like `generate_script`, also telling which opener (and context) was chosen."""
        template = ScriptGenerator.template_for(icp, campaign)
        body = render_template(template, placeholder_values(icp, prospect, campaign)) or MINIMAL_SCRIPT
        if not inject_reality:
            return RenderedScript(text=body, body=body, opener=None)
        opener = HumanizerEngine.opener(prospect, campaign, now or Clock().now())
        return RenderedScript(text=f"{opener.text} {body}", body=body, opener=opener)

    @staticmethod
    def generate_script(
        icp: Any,
        prospect: Any,
        campaign: Any,
        inject_reality: bool = True,
        now: datetime | None = None,
    ) -> str:
        """The script to say (as in the seed). Models or dicts; `now` is timezone-aware (default: now).

        With `inject_reality` the Humanizer Engine prepends an opener for the prospect's moment,
        judged in the prospect's local time.
        """
        return ScriptGenerator.render(icp, prospect, campaign, inject_reality, now).text


def _text_block(value: Any) -> str | None:
    # Templates keep their own spacing; only blank ones count as missing.
    if isinstance(value, str) and value.strip():
        return value
    return None
