"""bot/script.py: templates, missing values, and the Humanizer Engine's openers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.script import (
    DEFAULT_TEMPLATE,
    KNOWN_PLACEHOLDERS,
    OPENERS,
    HumanizerEngine,
    ScriptGenerator,
    find_placeholders,
    render_template,
    unknown_placeholders,
)
from db.models import Campaign, IcpIndustry, IdealCustomerProfile, Prospect

MADRID = ZoneInfo("Europe/Madrid")
SEED_ICP = {"pain_points": ["Prospección manual"], "value_proposition": "Automatiza prospección"}
SEED_PROSPECT = {"full_name": "María López", "company": "TechCorp", "role": "Directora Comercial"}
SEED_CAMPAIGN = {
    "script_template": "Hola {{first_name}}, soy Juan de Wallie. Vi que en {{company}} {{pain_point}}..."
}
SEED_BODY = "Hola María, soy Juan de Wallie. Vi que en TechCorp tienen prospección manual..."
IVA_WEEK = datetime(2026, 4, 15, 8, 30, tzinfo=UTC)  # Wednesday 10:30 in Madrid, deadline on the 20th


def assert_clean_spanish(text: str) -> None:
    """No leftover placeholder, no "None", no gaps or stray punctuation; sentences start upper case."""
    assert "{" not in text and "}" not in text
    assert "None" not in text and "null" not in text
    assert "  " not in text
    assert not re.search(r"\s[,.;:!?]", text), text
    assert not re.search(r"[,;]\s*[,.;]", text), text
    assert text == text.strip()
    assert text[0].isupper() or text[0] in "¿¡"
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        first = sentence.lstrip("¿¡")
        assert first[:1].isupper(), sentence
    assert text.count("¿") == text.count("?")
    assert text.count("¡") == text.count("!")


# --- Placeholders ----------------------------------------------------------------------------------


def test_known_placeholders_cover_the_issue() -> None:
    required = {"first_name", "full_name", "company", "role", "pain_point", "value_proposition",
                "key_benefit", "industry", "goal"}
    assert required <= KNOWN_PLACEHOLDERS


def test_find_and_unknown_placeholders() -> None:
    template = "Hola {{ first_name }}, {{company}} {{foo}} y {{bar baz}}. {{}}"
    assert find_placeholders(template) == {"first_name", "company", "foo", "bar baz", ""}
    assert unknown_placeholders(template) == ["", "bar baz", "foo"]
    assert unknown_placeholders(SEED_CAMPAIGN["script_template"]) == []
    assert unknown_placeholders(None) == []


# --- The seed's example ----------------------------------------------------------------------------


def test_seed_example_on_an_iva_week_reads_like_the_seed() -> None:
    rendered = ScriptGenerator.render(SEED_ICP, SEED_PROSPECT, SEED_CAMPAIGN, now=IVA_WEEK)
    assert rendered.opener is not None
    assert rendered.opener.context.key == "fiscal_quarterly"
    assert rendered.opener.text in OPENERS["fiscal_quarterly:deadline"]
    assert rendered.body == SEED_BODY
    assert rendered.text == f"{rendered.opener.text} {SEED_BODY}"
    assert ScriptGenerator.generate_script(SEED_ICP, SEED_PROSPECT, SEED_CAMPAIGN, now=IVA_WEEK) == rendered.text
    assert_clean_spanish(rendered.text)


def test_the_seeds_own_sample_sentence_is_one_of_the_variants() -> None:
    sample = "Sé que esta semana es complicada con el tema de impuestos. Seré breve."
    assert sample in OPENERS["fiscal_quarterly:deadline"]
    said = {
        ScriptGenerator.render(SEED_ICP, {**SEED_PROSPECT, "phone_number": f"+3461234{i:04d}"}, SEED_CAMPAIGN,
                               now=IVA_WEEK).opener.text
        for i in range(30)
    }
    assert sample in said
    assert len(said) >= 2  # several variants are really used


def test_inject_reality_false_gives_the_plain_script() -> None:
    assert ScriptGenerator.generate_script(SEED_ICP, SEED_PROSPECT, SEED_CAMPAIGN, inject_reality=False) == SEED_BODY


def test_opener_is_stable_for_a_prospect_and_moment() -> None:
    prospect = {**SEED_PROSPECT, "id": "7d1c5e0e-0000-4000-8000-000000000001"}
    first = ScriptGenerator.generate_script(SEED_ICP, prospect, SEED_CAMPAIGN, now=IVA_WEEK)
    later_same_day = IVA_WEEK.replace(hour=13)
    assert ScriptGenerator.generate_script(SEED_ICP, prospect, SEED_CAMPAIGN, now=later_same_day) == first


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError):
        ScriptGenerator.generate_script(SEED_ICP, SEED_PROSPECT, SEED_CAMPAIGN, now=datetime(2026, 4, 15, 10))


# --- Contexts end to end (the issue's fixed dates) ----------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "prospect_extra", "context", "must_contain"),
    [
        (IVA_WEEK, {}, "fiscal_quarterly", None),
        (datetime(2026, 6, 25, 9, tzinfo=UTC), {}, "fiscal_renta", "renta"),
        (datetime(2026, 8, 12, 9, tzinfo=UTC), {}, "august", "agosto"),
        (datetime(2026, 12, 24, 9, tzinfo=UTC), {}, "christmas_eve", "Nochebuena"),
        (datetime(2026, 11, 23, 8, 30, tzinfo=UTC), {}, "monday", "Buenos días"),
        (datetime(2026, 11, 27, 15, 0, tzinfo=UTC), {}, "friday", "viernes"),
        (datetime(2025, 7, 25, 9, tzinfo=UTC), {"region": "ES-MD"}, "holiday", None),
        (datetime(2026, 12, 7, 9, tzinfo=UTC), {}, "bridge_day", "puente"),
        (datetime(2026, 11, 25, 15, 0, tzinfo=UTC), {}, "afternoon", "Buenas tardes"),
    ],
)
def test_context_is_chosen_and_text_is_clean(moment, prospect_extra, context, must_contain) -> None:
    prospect = {**SEED_PROSPECT, **prospect_extra}
    rendered = ScriptGenerator.render(SEED_ICP, prospect, SEED_CAMPAIGN, now=moment)
    assert rendered.opener.context.key == context
    if must_contain:
        assert must_contain in rendered.opener.text
    assert rendered.text.endswith(SEED_BODY)
    assert_clean_spanish(rendered.text)


def test_madrid_holiday_is_a_plain_friday_in_catalonia() -> None:
    moment = datetime(2025, 7, 25, 9, tzinfo=UTC)
    madrid = ScriptGenerator.render(SEED_ICP, {**SEED_PROSPECT, "region": "ES-MD"}, SEED_CAMPAIGN, now=moment)
    catalonia = ScriptGenerator.render(SEED_ICP, {**SEED_PROSPECT, "region": "ES-CT"}, SEED_CAMPAIGN, now=moment)
    assert madrid.opener.context.key == "holiday"
    assert catalonia.opener.context.key != "holiday"


def test_moment_is_judged_in_the_prospects_local_time() -> None:
    # 13:30 UTC in winter: 14:30 in Madrid (afternoon), 13:30 in the Canaries (still morning).
    moment = datetime(2026, 11, 25, 13, 30, tzinfo=UTC)
    madrid = HumanizerEngine.opener(SEED_PROSPECT, {"timezone": "Europe/Madrid"}, moment)
    canary = HumanizerEngine.opener({**SEED_PROSPECT, "timezone": "Atlantic/Canary"}, {}, moment)
    assert madrid.context.key == "afternoon"
    assert canary.context.key == "morning"
    # A Canary landline implies the zone even without a timezone field.
    by_number = HumanizerEngine.opener({**SEED_PROSPECT, "phone_number": "+34922123456"}, {}, moment)
    assert by_number.context.key == "morning"


def test_every_opener_variant_is_clean_spanish() -> None:
    for key, variants in OPENERS.items():
        assert len(variants) >= 3, key
        assert len(set(variants)) == len(variants), key
        for variant in variants:
            for greeting in ("Buenos días", "Buenas tardes"):
                text = variant.format(saludo=greeting)
                assert_clean_spanish(text)
                assert text[-1] in ".?", text


# --- Missing values ---------------------------------------------------------------------------------------


def test_missing_name_and_company_are_rephrased() -> None:
    body = ScriptGenerator.generate_script(SEED_ICP, {"full_name": "", "company": None}, SEED_CAMPAIGN,
                                           inject_reality=False)
    assert body == "Hola, soy Juan de Wallie. Vi que en tu empresa tienen prospección manual..."


def test_missing_pain_point_drops_its_sentence() -> None:
    body = ScriptGenerator.generate_script({"pain_points": []}, SEED_PROSPECT, SEED_CAMPAIGN, inject_reality=False)
    assert body == "Hola María, soy Juan de Wallie."


def test_missing_value_drops_only_its_clause() -> None:
    campaign = {"script_template": "Hola {{first_name}}. Como {{role}}, seguro que te interesa esto. "
                                   "{{value_proposition}}. ¿Tienes un minuto, {{first_name}}?"}
    body = ScriptGenerator.generate_script({}, {"full_name": "JOSÉ PÉREZ"}, campaign, inject_reality=False)
    assert body == "Hola José. Seguro que te interesa esto. ¿Tienes un minuto, José?"
    assert_clean_spanish(body)


def test_values_are_cased_for_the_middle_of_a_sentence() -> None:
    icp = {"industry": IcpIndustry.saas, "key_benefits": ["Más reuniones cualificadas"], "goals": ["Crecer"],
           "value_proposition": "Automatiza prospección y aumenta conversión 3x"}
    campaign = {"script_template": "Trabajo con directores como tú, {{role}}, en {{industry}}: {{key_benefit}}. "
                                   "{{value_proposition}}. ¿Buscáis {{goal}}?"}
    prospect = {"full_name": "ana ruiz", "role": "Directora Comercial", "company": "Acme SL"}
    body = ScriptGenerator.generate_script(icp, prospect, campaign, inject_reality=False)
    assert body == ("Trabajo con directores como tú, directora comercial, en software: más reuniones cualificadas. "
                    "Automatiza prospección y aumenta conversión 3x. ¿Buscáis crecer?")


def test_acronyms_keep_their_case_and_clause_pain_points_stay() -> None:
    values = {"company": "Acme", "pain_point": "CRM desactualizado"}
    assert render_template("En {{company}} {{pain_point}}.", values) == "En Acme tienen CRM desactualizado."
    values["pain_point"] = "Pierden leads por falta de seguimiento"
    assert render_template("En {{company}} {{pain_point}}.", values) == "En Acme pierden leads por falta de seguimiento."


def test_unknown_placeholder_never_reaches_the_prospect() -> None:
    body = ScriptGenerator.generate_script(SEED_ICP, SEED_PROSPECT,
                                           {"script_template": "Hola {{first_name}}. Te llamo por {{producto}}."},
                                           inject_reality=False)
    assert body == "Hola María."


def test_custom_fields_override_placeholders() -> None:
    prospect = {**SEED_PROSPECT, "custom_fields": {"pain_point": "pierden horas en llamadas", "other": 1}}
    body = ScriptGenerator.generate_script(SEED_ICP, prospect, SEED_CAMPAIGN, inject_reality=False)
    assert body == "Hola María, soy Juan de Wallie. Vi que en TechCorp pierden horas en llamadas..."


def test_default_template_and_everything_missing() -> None:
    body = ScriptGenerator.generate_script({}, {"full_name": "María López"}, {}, inject_reality=False)
    assert body.startswith("Hola María, te llamo brevemente.")
    assert_clean_spanish(body)
    nothing = ScriptGenerator.generate_script(None, None, {"script_template": "{{pain_point}}."}, inject_reality=False)
    assert nothing == "Hola, ¿tienes un par de minutos?"
    assert find_placeholders(DEFAULT_TEMPLATE) <= KNOWN_PLACEHOLDERS


def test_icp_call_script_is_used_when_the_campaign_has_none() -> None:
    icp = {**SEED_ICP, "call_script": "Hola {{first_name}}, ¿qué tal?"}
    assert ScriptGenerator.generate_script(icp, SEED_PROSPECT, {"script_template": "  "},
                                           inject_reality=False) == "Hola María, ¿qué tal?"


# --- Model objects, also as stored and read back from the database ----------------------------------------


def _models(user_id=None) -> tuple[IdealCustomerProfile, Campaign, Prospect]:
    icp = IdealCustomerProfile(user_id=user_id, name="Director Comercial B2B SaaS", industry=IcpIndustry.technology,
                               pain_points=["Prospección manual", "Bajo conversion rate"],
                               value_proposition="Automatiza prospección y aumenta conversión 3x")
    campaign = Campaign(user_id=user_id, name="Q1 2025 Outbound", timezone="Europe/Madrid",
                        script_template=SEED_CAMPAIGN["script_template"])
    prospect = Prospect(user_id=user_id, full_name="María López", company="TechCorp", role="Directora Comercial",
                        phone_number="+34612345678", region="ES-MD")
    return icp, campaign, prospect


def test_model_objects_work_like_dicts() -> None:
    icp, campaign, prospect = _models()
    rendered = ScriptGenerator.render(icp, prospect, campaign, now=IVA_WEEK)
    assert rendered.body == SEED_BODY
    assert rendered.opener.context.key == "fiscal_quarterly"


async def test_script_from_stored_models(sessionmaker, make_tenant) -> None:
    tenant = await make_tenant()
    icp, campaign, prospect = _models(tenant.profile_id)
    async with sessionmaker() as session:
        session.add(icp)
        await session.flush()
        campaign.icp_id = icp.id
        session.add(campaign)
        await session.flush()
        prospect.campaign_id = campaign.id
        session.add(prospect)
        await session.commit()
        prospect_id = prospect.id
    async with sessionmaker() as session:
        stored = await session.scalar(select(Prospect).where(Prospect.id == prospect_id))
        stored_campaign = await session.get(Campaign, stored.campaign_id)
        stored_icp = await session.get(IdealCustomerProfile, stored_campaign.icp_id)
    moment = datetime(2025, 7, 25, 9, tzinfo=UTC)  # Santiago Apóstol: a holiday in Madrid
    rendered = ScriptGenerator.render(stored_icp, stored, stored_campaign, now=moment)
    assert rendered.body == SEED_BODY
    assert rendered.opener.context.key == "holiday"
    assert_clean_spanish(rendered.text)
