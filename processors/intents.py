"""Intent classification of one prospect utterance (Spanish, as an STT writes it).

`classify_intent(text, objections=None) -> str | None` is a pure function: it returns one of

* the seed's six common intents ``dime_mas``, ``no_gracias``, ``cuando``, ``cuanto_cuesta``,
  ``no_entiendo``, ``adios``;
* ``opt_out`` ("no me llames más", "borradme de vuestra lista") and ``interested``
  ("sí, me interesa", "pásame con alguien");
* a key of the campaign's ``objection_handling``;

or None when the utterance is not *clearly* one of them. A wrong canned answer is worse than none
(the LLM answers what we leave alone), so the classifier is built for precision:

1. **Normalise** (`normalize`): lower case, accents and punctuation stripped, whitespace collapsed,
   Spanish number words turned into digits ("ciento cuarenta y nueve" -> "149").
2. **Opt-out first.** An opt-out phrase anywhere wins, even inside a longer utterance: honouring
   "no me llaméis más" is a legal duty, and the cost of missing it is far higher.
3. **Campaign objections.** A trigger phrase found anywhere (as whole words, after the same
   normalisation) selects its key, unless the rest of the utterance also asks something else that
   we recognise (another intent's phrase, or a second question joined by "y"/"pero"...).
4. **Cover.** Otherwise every word of the utterance must be explained: by a phrase of an intent,
   or by a neutral word ("oye", "vale", "bueno", "por favor", ...). One unexplained word (an open
   question, a statement, a second topic) means None. Phrases are matched longest first on a token
   trie, so "no me interesa" beats "me interesa", and "me interesa saber más" beats both. A bare
   "no" is allowed only with the negative intents (so "no me digas más" is never ``dime_mas``).
   Two different intents in one utterance give None, except the pairs that are one act (see
   ``_MERGES``: "no, gracias, adiós" is ``no_gracias``).

The classifier has no dialogue state, so phrases whose meaning depends on what the bot just said
are left to the LLM: bare go-aheads ("adelante", "dime", "te escucho") answer the bot's last
question, and "suena bien"/"me parece genial" may accept a proposed time rather than show
interest.

Accepted shapes of ``objections`` (the campaign's ``objection_handling`` column)::

    {"precio_alto": {"triggers": ["es muy caro", "demasiado caro"], "response": "..."},
     "ya_tenemos_proveedor": "Entiendo. ¿Qué es lo que más valoras de tu proveedor actual?"}

A dict value's ``triggers`` (a list of phrases, or one string) are the phrases; a plain string
value is the response and the key itself, with underscores read as spaces, is the only trigger.
Anything else (no usable trigger) is ignored. Compiled objection tables are cached by content,
so passing the same dict on every call costs one dictionary lookup.

`is_backchannel(text)` tells short acknowledgements ("ajá", "sí, sí", "vale vale", "mhm") that
must not interrupt the bot apart from real barge-in; the turn-start strategy uses it.

Everything is compiled once at import into tuples and frozen tries (no mutable module state is
ever written after import); a call costs a few dictionary lookups per word (microseconds).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

#: The intents this module can return besides campaign objection keys.
BUILTIN_INTENTS: tuple[str, ...] = (
    "dime_mas",
    "no_gracias",
    "cuando",
    "cuanto_cuesta",
    "no_entiendo",
    "adios",
    "opt_out",
    "interested",
)

#: Utterances longer than this are never classified: a long turn is a conversation, not a canned
#: question, and deserves the LLM.
MAX_WORDS = 24

# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------

_UNITS: dict[str, int] = {
    "cero": 0, "uno": 1, "un": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12,
    "trece": 13, "catorce": 14, "quince": 15, "dieciseis": 16, "diecisiete": 17,
    "dieciocho": 18, "diecinueve": 19, "veinte": 20, "veintiuno": 21, "veintiun": 21,
    "veintiuna": 21, "veintidos": 22, "veintitres": 23, "veinticuatro": 24, "veinticinco": 25,
    "veintiseis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29,
}  # fmt: skip
_TENS: dict[str, int] = {
    "treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70,
    "ochenta": 80, "noventa": 90,
}  # fmt: skip
_HUNDREDS: dict[str, int] = {
    "cien": 100, "ciento": 100, "doscientos": 200, "doscientas": 200, "trescientos": 300,
    "trescientas": 300, "cuatrocientos": 400, "cuatrocientas": 400, "quinientos": 500,
    "quinientas": 500, "seiscientos": 600, "seiscientas": 600, "setecientos": 700,
    "setecientas": 700, "ochocientos": 800, "ochocientas": 800, "novecientos": 900,
    "novecientas": 900,
}  # fmt: skip
_MULTIPLIERS: dict[str, int] = {"mil": 1000, "millon": 1_000_000, "millones": 1_000_000}
_NUMBER_WORDS = {**_UNITS, **_TENS, **_HUNDREDS, **_MULTIPLIERS}
#: Words that are numbers only inside a longer number ("un" is mostly an article).
_ARTICLE_LIKE = frozenset({"un", "una", "uno"})

_THOUSANDS_SEP = re.compile(r"(?<=\d)[.,](?=\d{3}\b)")
_NON_WORD = re.compile(r"[^\w]+|_")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _number_value(words: list[str]) -> int:
    total, current = 0, 0
    for word in words:
        if word in _MULTIPLIERS:
            current = max(current, 1) * _MULTIPLIERS[word]
            total += current
            current = 0
        else:
            current += _NUMBER_WORDS[word]
    return total + current


def _numbers_to_digits(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i] not in _NUMBER_WORDS:
            out.append(tokens[i])
            i += 1
            continue
        run = [tokens[i]]
        j = i + 1
        while j < len(tokens):
            word = tokens[j]
            if word in _NUMBER_WORDS:
                run.append(word)
                j += 1
            elif (
                word == "y"
                and j + 1 < len(tokens)
                and run[-1] in _TENS
                and tokens[j + 1] in _UNITS
                and _UNITS[tokens[j + 1]] < 10
            ):
                j += 1  # "treinta y cinco": the "y" belongs to the number
            else:
                break
        if len(run) == 1 and run[0] in _ARTICLE_LIKE:
            out.append(run[0])
        else:
            out.append(str(_number_value(run)))
        i = j
    return out


def normalize(text: str) -> str:
    """Lower-case, strip accents and punctuation, collapse whitespace, number words to digits.

    >>> normalize("¿Cuánto   cuesta? ¡Ciento cuarenta y nueve euros!")
    'cuanto cuesta 149 euros'
    """
    lowered = _THOUSANDS_SEP.sub("", text.lower())
    tokens = _NON_WORD.sub(" ", _strip_accents(lowered)).split()
    return " ".join(_numbers_to_digits(tokens))


# ---------------------------------------------------------------------------------------------
# Phrase grammar: "(a|b c) [d]" expands to the token sequences it names; "*" is one free word.
# ---------------------------------------------------------------------------------------------

WILDCARD = "*"
#: Words a wildcard never stands for: they start a second question or a contrast, so an
#: utterance that needs one of them under a wildcard is compound and must go to the LLM.
_WILDCARD_STOP = frozenset(
    "y o pero como que cuando donde quien cual cuales cuanto cuanta cuantos cuantas porque "
    "por no ni tambien ademas aunque si competencia competidores otros otras ellos ellas actual".split()
)


def _parse_alternatives(src: str, pos: int, closer: str | None) -> tuple[list[tuple[str, ...]], int]:
    alternatives: list[tuple[str, ...]] = []
    current: list[tuple[str, ...]] = [()]
    word = ""

    def flush_word() -> None:
        nonlocal word, current
        if word:
            current = [seq + (word,) for seq in current]
            word = ""

    while pos < len(src):
        ch = src[pos]
        if ch in "([":
            if word:
                raise ValueError(f"a group must follow a space, not a word, in {src!r}")
            inner, pos = _parse_alternatives(src, pos + 1, ")" if ch == "(" else "]")
            if ch == "[":
                inner = [*inner, ()]
            current = [seq + alt for seq in current for alt in inner]
            continue
        if ch == "|":
            flush_word()
            alternatives.extend(current)
            current = [()]
        elif closer is not None and ch == closer:
            flush_word()
            alternatives.extend(current)
            return alternatives, pos + 1
        elif ch == " ":
            flush_word()
        else:
            word += ch
        pos += 1
    if closer is not None:
        raise ValueError(f"unbalanced phrase pattern: {src!r}")
    flush_word()
    alternatives.extend(current)
    return alternatives, pos


def expand_phrase(pattern: str) -> list[tuple[str, ...]]:
    """Every token sequence a phrase pattern names, e.g. ``"(dime|cuentame) [algo] mas"``."""
    sequences, _ = _parse_alternatives(pattern, 0, None)
    return [seq for seq in sequences if seq]


_END = ""  # trie key of the label stored at the end of a phrase


def _build_trie(entries: Iterable[tuple[tuple[str, ...], str]]) -> dict:
    root: dict = {}
    for tokens, label in entries:
        node = root
        for token in tokens:
            node = node.setdefault(token, {})
        node.setdefault(_END, label)  # the first definition of a phrase wins
    return root


def _longest_match(trie: dict, tokens: list[str], start: int) -> tuple[int, str | None]:
    """End index and label of the longest phrase starting at `start` (0, None if none)."""
    best_end, best_label = 0, None
    stack = [(trie, start)]
    while stack:
        node, i = stack.pop()
        if _END in node and i > best_end:
            best_end, best_label = i, node[_END]
        if i >= len(tokens):
            continue
        token = tokens[i]
        child = node.get(token)
        if child is not None:
            stack.append((child, i + 1))
        wild = node.get(WILDCARD)
        if wild is not None and token not in _WILDCARD_STOP:
            stack.append((wild, i + 1))
    return best_end, best_label


# ---------------------------------------------------------------------------------------------
# The phrase book. Written against normalised text (no accents, digits for numbers).
# ---------------------------------------------------------------------------------------------

NEUTRAL = "neutral"
NEGATION = "negation"

_NEUTRAL_PHRASES = (
    "si", "vale", "bueno", "bien", "pues", "oye", "oiga", "mira", "mire", "hola", "eh", "ah",
    "ay", "uf", "buf", "hmm", "mm", "mmm", "hm", "ejem", "ya", "hombre", "mujer", "claro", "ok",
    "okey", "vamos", "venga", "a ver", "(perdona|perdone|perdon|disculpa|disculpe) [una pregunta]",
    "por favor", "[muchas|mil] gracias", "entonces", "y", "o sea", "la verdad", "sinceramente",
    "tio", "tia", "de verdad", "(pues|bueno) nada", "senor", "senora", "guapa", "guapo", "majo", "maja", "chico", "chica",
    "(oye|mira|dime|una) (una cosa|una pregunta)", "una pregunta", "te pregunto", "le pregunto",
    "(si|ya) (si|ya)", "de acuerdo", "perfecto", "estupendo", "vale vale",
    "(buenos dias|buenas tardes|buenas noches|buenas)",
)  # fmt: skip

#: intent -> phrase patterns (see `expand_phrase`). Order inside a list does not matter: the
#: longest phrase at each position wins.
_PHRASES: dict[str, tuple[str, ...]] = {
    "cuanto_cuesta": (
        "[y] [(eso|esto)] cuanto (cuesta|cuestan|costaria|costara|vale|valen|valdria|sale|"
        "saldria|es|seria|sera) [* [* [*]]]",
        "[y] [(eso|esto)] cuanto (me|nos|te) (costaria|cuesta|costara|sale|saldria|cobrarias|"
        "cobrariais|cobrais|cobras|cobran|cobrarian|cobraria) [* [* [*]]]",
        "[y] cuanto (cobrais|cobras|cobran|cobrariais|cobrarias|pido|pagaria|pagariamos|pago|"
        "pagamos|hay que pagar|tendria que pagar|tengo que pagar|tendriamos que pagar) [* [* [*]]]",
        "[y] cuanto (dinero|pasta) (es|cuesta|seria|sale|costaria) [* [*]]",
        "[y] cuanto (me|nos) va a costar [* [*]]",
        "[y] [(eso|esto)] (que|cual es el|cual seria el|y el|el|cual es su|cual es vuestro|cual es tu) "
        "(precio|coste|costo) [(tiene|tienen|teneis|tendria|seria|es)] [* [* [*]]]",
        "[y] (que|cuales son los|cuales son sus|cuales son vuestros|los) precios "
        "[(teneis|tienen|tiene|manejais|manejan|hay|son)] [* [*]]",
        "[y] (que|cual es la|cuales son las|cuales son vuestras|las) (tarifa|tarifas) "
        "[(teneis|tienen|tiene|hay|son)] [* [*]]",
        "[y] (el|de) precio",
        "(precio|precios|tarifas)",
        "[y] que (cuesta|vale|cuestan) [(eso|esto|el servicio|vuestro servicio|al mes)]",
        "(me|nos) (puedes|podeis|podrias|puede|podria|podriais) (decir|dar|pasar) "
        "(el|un|los|vuestros|tus|sus) (precio|precios|tarifas|coste)",
        "(dame|dime|decidme|digame) (el|un|los) (precio|precios)",
        "(cuanto|que) (hay que invertir|inversion es|inversion seria|inversion hace falta)",
        "(cuanto|que) (presupuesto) (hace falta|necesito|seria|es)",
    ),
    "dime_mas": (
        "(dime|cuentame|cuenteme|digame|explicame|expliqueme|explicamelo|cuentamelo|"
        "contadme|explicadme) [(un poco|algo)] mas [(de eso|sobre eso|cosas|detalles|por favor)]",
        "(cuentame|cuenteme|explicame|expliqueme|explicamelo|cuentamelo|contadme|explicadme)",
        "(cuentame|cuenteme|explicame|expliqueme|contadme|explicadme) (un poco|algo|eso|de que va|"
        "de que se trata|que es|que haceis|que ofreceis|en que consiste|de que va esto|"
        "que es eso|que es esto|por favor)",
        "(quiero|quisiera|me gustaria|queria|me interesa|me interesaria|me encantaria|"
        "nos gustaria|necesito) saber (mas|algo mas|un poco mas) [(de eso|sobre eso|cosas|"
        "sobre el tema|del tema|sobre vosotros|de vosotros)]",
        "(puedes|podrias|puede|podria|podeis|podriais) (contarme|explicarme|decirme|darme) "
        "(mas|algo mas|un poco mas) [(de eso|sobre eso|detalles|informacion|cosas)]",
        "(me|nos) (puedes|podrias|puede|podria|podeis|podriais) (contar|explicar|decir|dar) "
        "(mas|algo mas|un poco mas|de que va|de que se trata|en que consiste|que es eso|"
        "que haceis|que ofreceis|mas detalles|mas informacion)",
        "de que (va|se trata) [(esto|eso|la llamada|todo esto|vuestro servicio|el servicio|"
        "lo vuestro)]",
        "en que consiste [(esto|eso|lo vuestro|el servicio|vuestro servicio|el producto)]",
        "que es (eso|esto|lo que haceis|lo que ofreceis|lo que vendeis|lo que ofreces|"
        "lo que vendes)",
        "que (ofreceis|ofrecen|ofreces|ofrece|haceis|hacen|haces|vendeis|venden|vendes) "
        "[exactamente]",
        "(a que|de que) (os dedicais|se dedican|se dedica|te dedicas)",
        "cuentame cuentame",
        "(quiero|quisiera|me gustaria|queria|dame|deme|necesito|necesitaria) "
        "(mas|algo mas de) informacion",
        "mas (informacion|detalles) [por favor]",
        "(suena|parece) interesante (cuentame|cuentame mas|dime mas|explicame)",
    ),
    "no_gracias": (
        "[no] no [(muchas|mil)] gracias [(de verdad|de todas formas|de todos modos)]",
        "[no] (la verdad es que no|de momento no|por ahora no|ahora mismo no|ahora no|"
        "sinceramente no|de verdad que no|no|a mi no|a nosotros no) (me|nos) interesa "
        "[(nada|para nada|de momento|ahora|ahora mismo|por ahora|la verdad|lo que vendes|"
        "lo que vendeis|lo que ofreces|lo que ofreceis|eso|esto|el tema)]",
        "[no] no (estoy|estamos) (interesado|interesada|interesados|interesadas) "
        "[(en eso|en esto|de momento|ahora|por ahora|para nada)]",
        "[no] no (tengo|tenemos) (interes|ningun interes)",
        "[no] no (me|nos) hace falta [(nada|de momento|ahora|eso)]",
        "[no] no (necesito|necesitamos|quiero|queremos) (nada|eso|esto|ese servicio|comprar nada)",
        "[no] no lo (necesito|necesitamos|quiero|queremos)",
        "[no] no (quiero|queremos)",
        "[no] ya (tenemos|tengo) (uno|una|algo|proveedor|alguien|eso|algo parecido|algo asi|"
        "un proveedor|una solucion|otro proveedor|quien nos lo haga|de eso|lo nuestro)",
        "[no] ya (trabajamos|trabajo) con (otro|otra|alguien|otra empresa|otro proveedor)",
        "[no] ya (estamos|estoy) (cubiertos|cubierto|servidos|servido|bien asi)",
        "[no] (estamos|estoy) bien asi",
        "paso",
        "[no] no (me|nos) llama la atencion",
        "[no] no es para (nosotros|mi)",
        "[no] no (me|nos) apetece",
        "[no] (que no|he dicho que no|te he dicho que no|le he dicho que no)",
        "[no] que no (me|nos) interesa",
        "no (compro|compramos) nada",
        "no (estoy|estamos) (buscando|mirando) nada",
    ),
    "cuando": (
        "cuando (podemos|podriamos|puedes|podrias|quieres|querrias|seria|sera|es|hablamos|"
        "quedamos|me llamas|me llamais|nos llamais|me llamarias|me vuelves a llamar|"
        "lo hablamos|lo vemos|tienes hueco|te va bien|os va bien|nos vemos|puedo|podria)"
        " [(hablar|quedar|vernos|hablarlo|verlo|llamarme|llamar|la reunion|eso)]",
        "cuando",
        "[no] (ahora|ahora mismo|en este momento|hoy) no (puedo|podemos|es buen momento|"
        "es un buen momento|me viene bien|me va bien|tengo tiempo|puedo hablar|puedo atenderte|"
        "puedo atenderle|me pillas bien)",
        "[no] no (es|es un) buen momento [(ahora|ahora mismo)]",
        "[(ahora|ahora mismo|en este momento)] (estoy|estamos) (ocupado|ocupada|ocupados|liado|"
        "liada|liados|reunido|reunida|conduciendo|en una reunion|trabajando|con un cliente|"
        "a tope) [(ahora|ahora mismo|en este momento)]",
        "(me|nos) (pillas|pilla|pillais) (en mal momento|mal|ocupado|ocupada|conduciendo|"
        "en una reunion|fatal)",
        "(llamame|llamadme|llameme|llamenme|vuelve a llamarme|vuelveme a llamar|me llamas|"
        "me puedes llamar|puedes llamarme|podrias llamarme|me podrias llamar|llamame mejor|"
        "mejor llamame|me llamais|vuelve a llamar|me vuelves a llamar) (luego|mas tarde|"
        "otro dia|manana|en otro momento|la semana que viene|despues|en una hora|mas adelante|"
        "esta tarde|por la tarde|por la manana|otro rato|dentro de un rato|el lunes|el martes|"
        "el miercoles|el jueves|el viernes|la proxima semana|en un rato)",
        "[mejor] (en otro momento|otro dia|mas tarde|luego|mas adelante|en otro rato)",
        "(hablamos|lo hablamos|lo vemos) (luego|mas tarde|otro dia|manana|mas adelante)",
    ),
    "no_entiendo": (
        "[no] no (te|le|lo|os) (entiendo|he entendido|entendi|sigo|oigo|oigo bien|escucho|"
        "escucho bien|he oido|he escuchado|estoy entendiendo)",
        "[no] no (entiendo|he entendido|entendi|comprendo|he comprendido) [(nada|bien|"
        "lo que dices|que dices|lo que me dices|a que te refieres|de que va)]",
        "[no] no me (he enterado|entero|estoy enterando) [(de nada|bien|de nada de lo que dices)]",
        "[no] no (se|sabria) de que (me hablas|hablas|me estas hablando|va esto|va esta llamada)",
        "(que|como) (dices|has dicho|me dices|dice|ha dicho|me has dicho|me ha dicho)",
        "(puedes|podrias|puede|podria|podeis) (repetir|repetirlo|repetirmelo|repetirme) [(por favor|otra vez)]",
        "(puedes|podrias|puede|podria) repetirmelo [por favor]",
        "(me lo|lo) (repites|repite|puedes repetir|podrias repetir|repetis)",
        "(repite|repitelo|repitemelo|repitame|repitamelo|repetid) [(por favor|otra vez)]",
        "otra vez [por favor]",
        "[no] (se corta|se oye fatal|se oye mal|no se oye|no se te oye|no se le oye|"
        "se te oye mal|se te oye fatal|te oigo mal|te escucho mal|le oigo mal)",
        "(a que te refieres|a que se refiere|que quieres decir|que quiere decir)",
        "(habla|hablas|puedes hablar|podrias hablar) mas (despacio|alto|claro)",
        "(como|que) (como|que)",
    ),
    "adios": (
        "(adios|hasta luego|hasta otra|hasta pronto|hasta manana|hasta la proxima|chao|chau|"
        "agur|nos vemos|un saludo|saludos|bye|bye bye|un abrazo|que vaya bien|que te vaya bien|"
        "que le vaya bien|que tengas buen dia|que tengas un buen dia)",
        "(tengo que|voy a|te tengo que|le tengo que) (colgar|dejarte|dejarle|dejar)",
        "(te|le|os) dejo",
        "(cuelgo|te cuelgo|le cuelgo)",
    ),
    "opt_out": (
        "no (me|nos) (llames|llameis|llamen|llame|llamas|llamais) (mas|nunca|nunca mas|mas veces|"
        "otra vez|mas a este numero)",
        "no (me|nos) (vuelvas|volvais|vuelvan|vuelva) a llamar",
        "no vuelvas a (llamarme|llamarnos|llamar)",
        "no (volvais|vuelvan|vuelva) a (llamarme|llamarnos|llamar)",
        "(dejad|deja|dejen|deje|dejar|dejeis|dejes) de (llamarme|llamarnos|llamar|molestarme|"
        "molestarnos|molestar)",
        "(borradme|borrame|borreme|borrenme|quitadme|quitame|quiteme|quitenme|eliminadme|"
        "eliminame|elimineme|eliminenme|sacadme|sacame|saqueme|saquenme|borradnos|quitadnos|"
        "borrarme|quitarme|eliminarme|sacarme) (de|del) [(vuestra|la|su|tu|esta|vuestro|el|"
        "su|tu)] (lista|listado|base de datos|bbdd|agenda|registro|fichero|sistema|listas)",
        "(darme|darnos|dame|dadme|denme|deme) de baja",
        "(borrad|borra|borren|borre|eliminad|elimina|eliminen|elimine) (mis|nuestros) datos",
        "(quiero|quisiera|me gustaria|exijo) que (me|nos) (borreis|borren|borres|quiteis|quiten|"
        "quites|elimineis|eliminen|saqueis|saquen) (de|del)",
        "(quiero|quisiera|me gustaria|exijo) que no (me|nos) (llameis|llamen|llames|llame) "
        "(mas|nunca|nunca mas)",
        "no (quiero|queremos) (que me llameis|que me llamen|que me llames|que nos llameis|"
        "que nos llamen|recibir mas llamadas|recibir llamadas|mas llamadas|que me volvais a llamar|"
        "que me vuelvan a llamar|que me vuelvas a llamar)",
        "(apuntame|apuntadme|metedme|meteme|estoy) en (la lista|el registro) robinson",
        "lista robinson",
        "no (me|nos) (molesteis|molestes|molesten|moleste) mas",
        "ni se (te|os) ocurra volver a (llamarme|llamarnos|llamar)",
    ),
    "interested": (
        "[(pues|la verdad es que)] (me|nos) (interesa|interesaria|interesa mucho|interesa bastante|"
        "interesa bastante la verdad|podria interesar|puede interesar)",
        "(estoy|estamos) (interesado|interesada|interesados|interesadas) [(la verdad|si)]",
        # Only interest itself: "suena bien" or "me parece genial" also accept a proposed time.
        "(suena|me suena|eso suena|esto suena) (interesante|muy interesante)",
        "(me parece|parece|eso me parece|eso parece) (interesante|muy interesante)",
        "(pasame|pasadme|paseme|ponme|ponedme|pongame|pasenme|comunicame|conectame|me pasas|"
        "me pasais|me puedes pasar|me podrias pasar|puedes pasarme|podrias pasarme|me pones) con "
        "(alguien|un companero|una companera|un comercial|una comercial|una persona|un humano|"
        "un agente|un vendedor|una vendedora|el responsable|tu companero|tu companera|tu jefe|"
        "un asesor|una asesora|alguien que sepa|alguien de ventas|una persona real|un especialista)",
        "(quiero|quisiera|me gustaria|puedo|podria|prefiero) hablar con (alguien|una persona|"
        "un comercial|un humano|un agente|un asesor|una asesora|tu companero|un vendedor|"
        "alguien de ventas|una persona real|un especialista|alguien del equipo)",
        "me apunto",
        "(quiero|queremos|quisiera|me gustaria|nos gustaria) (contratarlo|contratar|probarlo|"
        "probar|una demo|una demostracion|verlo|una prueba|empezar)",
        "(como|donde) (lo contrato|lo contratamos|firmo|me apunto|me doy de alta|empezamos)",
    ),
}

#: Whole utterances (normalised) that mean "pardon?" only when said alone.
_ALONE_NO_ENTIENDO = frozenset(
    {"que", "como", "perdon", "perdona", "perdone", "mande", "que que", "como como", "perdona que",
     "perdon que", "perdona como", "perdon como", "que perdona", "como perdona", "eh que",
     "eh como", "que como", "disculpa", "disculpe", "perdona que dices", "como dice"}
)  # fmt: skip

#: Intents that a bare "no" in the same utterance does not contradict.
_NEGATIVE_INTENTS = frozenset({"no_gracias", "no_entiendo", "cuando", "adios", "opt_out"})

#: Pairs of intents that are one act when said together, and which one they are.
_MERGES: dict[frozenset[str], str] = {
    frozenset({"no_gracias", "adios"}): "no_gracias",
    frozenset({"cuando", "adios"}): "cuando",
    frozenset({"interested", "dime_mas"}): "interested",
    frozenset({"opt_out", "adios"}): "opt_out",
    frozenset({"opt_out", "no_gracias"}): "opt_out",
}


def _phrase_entries() -> list[tuple[tuple[str, ...], str]]:
    entries: list[tuple[tuple[str, ...], str]] = []
    # Intents first, so that a phrase spelled identically as a neutral filler keeps its intent.
    for intent, patterns in _PHRASES.items():
        for pattern in patterns:
            entries.extend((seq, intent) for seq in expand_phrase(pattern))
    for pattern in _NEUTRAL_PHRASES:
        entries.extend((seq, NEUTRAL) for seq in expand_phrase(pattern))
    entries.append((("no",), NEGATION))
    return entries


_TRIE = _build_trie(_phrase_entries())
_OPT_OUT_TRIE = _build_trie((seq, "opt_out") for p in _PHRASES["opt_out"] for seq in expand_phrase(p))
#: Trie of the intent phrases alone, without neutral words (spots a second topic next to an
#: objection).
_INTENT_TRIE = _build_trie(
    (seq, intent) for intent, patterns in _PHRASES.items() for p in patterns for seq in expand_phrase(p)
)
#: Words that, after an objection phrase, start a second question ("... y ¿cómo se integra?").
_SECOND_TOPIC_WORDS = frozenset("como que cuando donde quien cual cuales cuanto cuanta porque".split())
_CONJUNCTIONS = frozenset({"y", "pero", "o", "aunque", "ademas"})

# ---------------------------------------------------------------------------------------------
# Objections
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ObjectionTable:
    trie: dict


def objection_triggers(objections: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """The trigger phrases of each objection key, in the accepted shapes (see module doc)."""
    result: dict[str, list[str]] = {}
    for key, value in (objections or {}).items():
        if not isinstance(key, str) or not key.strip():
            continue
        triggers: list[str] = []
        if isinstance(value, Mapping):
            raw = value.get("triggers")
            if isinstance(raw, str):
                triggers = [raw]
            elif isinstance(raw, Iterable):
                triggers = [t for t in raw if isinstance(t, str)]
        elif isinstance(value, str):
            triggers = [key.replace("_", " ")]
        cleaned = [normalize(t) for t in triggers]
        cleaned = [t for t in cleaned if t]
        if cleaned:
            result[key] = cleaned
    return result


@lru_cache(maxsize=256)
def _objection_table(frozen: str) -> _ObjectionTable | None:
    triggers = objection_triggers(json.loads(frozen))
    if not triggers:
        return None
    return _ObjectionTable(
        trie=_build_trie((tuple(t.split()), key) for key, phrases in triggers.items() for t in phrases)
    )


def _table_for(objections: Mapping[str, Any]) -> _ObjectionTable | None:
    # Only string keys can name an objection; dropping the others also keeps json.dumps from
    # failing on keys it cannot sort.
    usable = {k: v for k, v in objections.items() if isinstance(k, str)}
    return _objection_table(json.dumps(usable, sort_keys=True, ensure_ascii=False, default=str))


def _find_spans(trie: dict, tokens: list[str]) -> list[tuple[int, int, str]]:
    """Non-overlapping longest phrase matches of `trie` in `tokens`, left to right."""
    spans: list[tuple[int, int, str]] = []
    i = 0
    while i < len(tokens):
        end, label = _longest_match(trie, tokens, i)
        if label is not None:
            spans.append((i, end, label))
            i = end
        else:
            i += 1
    return spans


def _is_compound(tokens: list[str], span_start: int, span_end: int) -> bool:
    """True when the words around an objection phrase raise another topic we recognise."""
    rest = tokens[:span_start] + ["|"] + tokens[span_end:]
    if _find_spans(_INTENT_TRIE, rest):
        return True
    for i, token in enumerate(rest):
        if token in _CONJUNCTIONS and i + 1 < len(rest) and rest[i + 1] in _SECOND_TOPIC_WORDS:
            return True
    return False


def _classify_objection(tokens: list[str], objections: Mapping[str, Any]) -> str | None:
    table = _table_for(objections)
    if table is None:
        return None
    spans = _find_spans(table.trie, tokens)
    keys = {label for _, _, label in spans}
    if len(keys) != 1:
        return None
    start, end, key = max(spans, key=lambda s: s[1] - s[0])
    return None if _is_compound(tokens, start, end) else key


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


#: Words after "no me llames más" that make it about *when* ("... más tarde"), not an opt-out.
_TIME_WORDS = frozenset("tarde temprano luego hoy ahora antes despues pronto".split())
_TIME_PAIRS = frozenset({("a", "este"), ("a", "esta"), ("a", "las"), ("por", "la"), ("a", "la")})


def _is_time_qualified(tokens: list[str], end: int) -> bool:
    if end < len(tokens) and tokens[end] in _TIME_WORDS:
        return True
    return tuple(tokens[end : end + 2]) in _TIME_PAIRS


def _cover(tokens: list[str]) -> str | None:
    intents: set[str] = set()
    negated = False
    i = 0
    while i < len(tokens):
        end, label = _longest_match(_TRIE, tokens, i)
        if label is None:
            return None  # a word nothing explains: an open question or a statement
        if label == NEGATION:
            negated = True
        elif label != NEUTRAL:
            intents.add(label)
        i = end
    if not intents:
        return None
    if len(intents) == 1:
        intent = next(iter(intents))
    else:
        merged = _MERGES.get(frozenset(intents))
        if merged is None:
            return None
        intent = merged
    if negated and intent not in _NEGATIVE_INTENTS:
        return None
    return intent


def classify_intent(text: str, objections: Mapping[str, Any] | None = None) -> str | None:
    """The intent of one final transcript, a campaign objection key, or None (see module doc).

    >>> classify_intent("¿Cuánto cuesta?")
    'cuanto_cuesta'
    >>> classify_intent("¿Cuánto cuesta y cómo se integra con mi CRM?") is None
    True
    """
    tokens = normalize(text).split()
    if not tokens or len(tokens) > MAX_WORDS:
        return None
    if any(not _is_time_qualified(tokens, end) for _, end, _ in _find_spans(_OPT_OUT_TRIE, tokens)):
        return "opt_out"
    if isinstance(objections, Mapping) and objections:  # a malformed column is ignored, not fatal
        key = _classify_objection(tokens, objections)
        if key is not None:
            return key
    if " ".join(tokens) in _ALONE_NO_ENTIENDO:
        return "no_entiendo"
    return _cover(tokens)


_BACKCHANNEL_WORDS = frozenset(
    "aja ajam aha mhm mhmm mm mmm hm hmm uhum umjum si vale ya claro ok okey bien eh ah "
    "entiendo perfecto exacto correcto venga vaya anda sisi".split()
)
_BACKCHANNEL_PHRASES = frozenset({"de acuerdo", "ya veo", "ya ya", "claro claro", "si claro"})
#: Longest acknowledgement still treated as a backchannel ("sí, sí, claro, vale").
MAX_BACKCHANNEL_WORDS = 4


def is_backchannel(text: str) -> bool:
    """True for a short acknowledgement said while the bot talks ("ajá", "sí, sí", "vale vale").

    Such a transcript must not interrupt the bot. Empty text is not a backchannel (nothing is
    known yet), and neither is anything with "no", a question or content words.
    """
    padded = f" {normalize(text)} "
    for phrase in _BACKCHANNEL_PHRASES:
        padded = padded.replace(f" {phrase} ", " ya ")
    tokens = padded.split()
    if not tokens or len(tokens) > MAX_BACKCHANNEL_WORDS:
        return False
    return all(token in _BACKCHANNEL_WORDS for token in tokens)
