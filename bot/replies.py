"""The bot's pre-rendered replies: what it says without asking the LLM.

The seed's six common intents (`dime_mas`, `no_gracias`, `cuando`, `cuanto_cuesta`, `no_entiendo`,
`adios`) plus the fixed lines every call may need (voicemail, opt-out confirmation, transfer
announcement and its failure, technical apology, silence prompt, goodbye). A campaign overrides
any of them, or adds its own keys, through `Campaign.pregenerated_replies`; bot/assets.py renders
the result with the campaign's voice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Reply key -> Spanish text (es-ES). Written to be heard on a phone line: short sentences,
#: numbers in words where a synthetic voice could misread them.
DEFAULT_REPLIES: dict[str, str] = {
    "dime_mas": (
        "Claro, con gusto. Ayudamos a equipos comerciales a automatizar la prospección, "
        "para que dediquen su tiempo a hablar con clientes y no a buscar contactos. "
        "¿Quieres que te cuente cómo funciona en dos minutos?"
    ),
    "no_gracias": (
        "Entiendo, sin problema. Gracias por tu tiempo y que tengas un buen día."
    ),
    "cuando": (
        "Podemos hablar cuando te venga bien. ¿Te va mejor por la mañana o por la tarde?"
    ),
    "cuanto_cuesta": (
        "Tenemos planes desde ciento cuarenta y nueve euros al mes, según el tamaño del equipo. "
        "¿Cuántas personas tenéis en el equipo comercial?"
    ),
    "no_entiendo": (
        "Perdona, déjame explicarlo mejor. Te ayudamos a conseguir más reuniones con clientes "
        "sin tener que hacer tú las llamadas en frío."
    ),
    "adios": "Perfecto, un placer hablar contigo. ¡Que tengas un buen día!",
    "voicemail": (
        "Hola, te llamaba para comentarte brevemente cómo podemos ayudar a tu equipo comercial "
        "a conseguir más reuniones. Volveré a intentarlo en otro momento. ¡Que tengas un buen día!"
    ),
    "opt_out": (
        "Entendido. He anotado que no quieres recibir más llamadas y no volveremos a llamarte. "
        "Disculpa las molestias y que tengas un buen día."
    ),
    "transfer": (
        "¡Genial! Te paso ahora mismo con un compañero que te lo cuenta todo en detalle. "
        "Un momento, por favor."
    ),
    "transfer_failed": (
        "Vaya, lo siento, mi compañero no está disponible en este momento. "
        "Te llamará él lo antes posible. ¡Gracias por tu tiempo!"
    ),
    "apology": (
        "Perdona, estoy teniendo un problema técnico con la llamada. "
        "Te llamaremos en otro momento. Disculpa las molestias."
    ),
    "silence_prompt": "¿Hola? ¿Sigues ahí?",
    "goodbye": "Bueno, no te quito más tiempo. Gracias por atenderme y que tengas un buen día.",
}


def read_field(obj: Any, name: str) -> Any:
    """`obj.name` of a model or `obj[name]` of a dict (None when absent), so both shapes work."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def campaign_reply_texts(campaign: Any) -> dict[str, str]:
    """The reply texts a campaign's calls use: the defaults overlaid with its own replies.

    `campaign` is a `Campaign`, a dict with `pregenerated_replies`, or None. Entries that are not
    non-empty strings are ignored, so a half-edited campaign never silences a reply.
    """
    texts = dict(DEFAULT_REPLIES)
    overrides = read_field(campaign, "pregenerated_replies") or {}
    if isinstance(overrides, Mapping):
        for key, text in overrides.items():
            if isinstance(key, str) and isinstance(text, str) and text.strip():
                texts[key.strip()] = text.strip()
    return texts
