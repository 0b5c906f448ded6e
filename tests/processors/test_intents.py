"""The intent classifier: normalisation, negation, compound turns, objections, and the labelled set.

The labelled set (`intent_utterances.tsv`) measures precision and recall per intent; precision
comes first (a wrong canned answer is worse than none), so it must be at least 0.95 for every
intent, with a recall floor that keeps the router useful.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from processors.intents import (
    BUILTIN_INTENTS,
    classify_intent,
    expand_phrase,
    is_backchannel,
    normalize,
    objection_triggers,
)

DATA = Path(__file__).with_name("intent_utterances.tsv")

#: The campaign objections the labelled set's objection lines refer to (both accepted shapes).
OBJECTIONS = {
    "precio_alto": {
        "triggers": ["es muy caro", "demasiado caro", "no tenemos presupuesto"],
        "response": "Entiendo. Precisamente por eso empezamos con un plan pequeño.",
    },
    "proveedor": {
        "triggers": ["ya tenemos proveedor", "trabajamos con un proveedor"],
        "response": "Perfecto, ¿qué es lo que más valoras de tu proveedor actual?",
    },
}

PRECISION_FLOOR = 0.95
RECALL_FLOOR = 0.85


def load_labelled() -> list[tuple[str | None, str]]:
    rows: list[tuple[str | None, str]] = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, text = line.split("\t", 1)
        rows.append((None if label == "-" else label, text))
    return rows


def test_labelled_set_is_big_and_has_negatives() -> None:
    rows = load_labelled()
    assert len(rows) >= 200
    assert sum(1 for label, _ in rows if label is None) >= 60
    labels = {label for label, _ in rows if label}
    assert set(BUILTIN_INTENTS) <= labels


def test_precision_and_recall_per_intent() -> None:
    rows = load_labelled()
    true_pos: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    actual: Counter[str] = Counter()
    mistakes = []
    for label, text in rows:
        got = classify_intent(text, OBJECTIONS)
        if got is not None:
            predicted[got] += 1
        if label is not None:
            actual[label] += 1
        if got == label and got is not None:
            true_pos[got] += 1
        if got != label:
            mistakes.append((text, label, got))
    report = []
    for intent in sorted(actual):
        precision = true_pos[intent] / predicted[intent] if predicted[intent] else 1.0
        recall = true_pos[intent] / actual[intent]
        report.append((intent, precision, recall))
    print("\nintent          precision  recall   n")
    for intent, precision, recall in report:
        print(f"{intent:15} {precision:9.3f} {recall:7.3f} {actual[intent]:3}")
    print("mistakes:", mistakes)
    for intent, precision, recall in report:
        assert precision >= PRECISION_FLOOR, (intent, precision, mistakes)
        assert recall >= RECALL_FLOOR, (intent, recall, mistakes)
    false_positives = [m for m in mistakes if m[1] is None]
    assert not false_positives, false_positives


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("¿Cuánto   cuesta?", "cuanto cuesta"),
        ("ÁÉÍÓÚ Ñandú, ¡ya!", "aeiou nandu ya"),
        ("Ciento cuarenta y nueve euros", "149 euros"),
        ("dos mil quinientos", "2500"),
        ("1.000 llamadas", "1000 llamadas"),
        ("un momento", "un momento"),
        ("veintiún clientes", "21 clientes"),
        ("", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no, no me interesa", "no_gracias"),
        ("no me digas más", None),
        ("no me interesa", "no_gracias"),
        ("sí, me interesa", "interested"),
        ("no sé si me interesa", None),
        ("¿cuánto cuesta y cómo se integra con mi CRM?", None),
        ("no me llames más tarde", None),
        ("no me interesa y no me llames más", "opt_out"),
        ("", None),
        ("   ", None),
        ("¿?", None),
    ],
)
def test_negation_compound_and_edge_cases(text: str, expected: str | None) -> None:
    assert classify_intent(text) == expected


def test_very_long_utterance_is_left_to_the_llm() -> None:
    text = "mira te cuento " * 10 + "cuánto cuesta"
    assert classify_intent(text) is None


def test_objection_shapes() -> None:
    objections = {
        "caro": {"triggers": "demasiado caro", "response": "..."},
        "no_tengo_tiempo": "Lo entiendo, te robo solo un minuto.",
        "sin_triggers": {"response": "never matched"},
        "mala_forma": 42,
    }
    assert objection_triggers(objections) == {"caro": ["demasiado caro"], "no_tengo_tiempo": ["no tengo tiempo"]}
    assert classify_intent("uf, es demasiado caro", objections) == "caro"
    assert classify_intent("no tengo tiempo", objections) == "no_tengo_tiempo"
    assert classify_intent("No tengo tiempo, ¿cuánto cuesta?", objections) is None
    assert classify_intent("es demasiado caro y cómo se integra", objections) is None
    # Accents and punctuation in triggers are normalised like the utterance.
    assert classify_intent("¡Qué caro!", {"caro": {"triggers": ["qué caro"]}}) == "caro"
    # An opt-out beats an objection.
    assert classify_intent("es demasiado caro, no me llames más", objections) == "opt_out"
    assert classify_intent("cuánto cuesta", {}) == "cuanto_cuesta"
    assert classify_intent("cuánto cuesta", None) == "cuanto_cuesta"
    # A malformed column never breaks classification.
    assert classify_intent("cuánto cuesta", ["es caro"]) == "cuanto_cuesta"  # type: ignore[arg-type]
    assert classify_intent("es demasiado caro", {1: "x", "caro": {"triggers": [None, "demasiado caro"]}}) == "caro"


def test_phrase_grammar() -> None:
    assert sorted(expand_phrase("(dime|cuentame) [algo] mas")) == sorted(
        [("dime", "mas"), ("dime", "algo", "mas"), ("cuentame", "mas"), ("cuentame", "algo", "mas")]
    )
    with pytest.raises(ValueError):
        expand_phrase("(dime")


@pytest.mark.parametrize("text", ["ajá", "Sí, sí.", "vale vale", "mhm", "ya", "vale", "claro, claro", "ya veo", "Sí, claro.", "de acuerdo"])
def test_backchannels(text: str) -> None:
    assert is_backchannel(text)


@pytest.mark.parametrize("text", ["", "no", "no, no", "¿cuánto cuesta?", "sí, pero una pregunta", "vale vale vale vale vale", "espera"])
def test_not_backchannels(text: str) -> None:
    assert not is_backchannel(text)
