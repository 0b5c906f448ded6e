"""Spanish names of the data model's values, as the sales team reads them."""

from __future__ import annotations

from db.models import (
    CallLegStatus,
    CallOutcome,
    CallSequenceStatus,
    CampaignStatus,
    ConsentBasis,
    IcpCompanySize,
    IcpIndustry,
    VoiceType,
)

CAMPAIGN_STATUS: dict[str, str] = {
    CampaignStatus.draft: "Borrador",
    CampaignStatus.active: "Activa",
    CampaignStatus.paused: "En pausa",
    CampaignStatus.completed: "Finalizada",
    CampaignStatus.archived: "Archivada",
}

CALL_OUTCOME: dict[str, str] = {
    CallOutcome.answered: "Contestada",
    CallOutcome.no_answer: "Sin respuesta",
    CallOutcome.voicemail: "Buzón de voz",
    CallOutcome.busy: "Ocupado",
    CallOutcome.failed: "Fallida",
    CallOutcome.interested: "Interesado",
    CallOutcome.not_interested: "No interesado",
    CallOutcome.callback: "Volver a llamar",
    CallOutcome.wrong_number: "Número equivocado",
}

PROSPECT_STATUS: dict[str, str] = {
    CallSequenceStatus.pending: "Pendiente",
    CallSequenceStatus.scheduled: "Programado",
    CallSequenceStatus.in_progress: "En llamada",
    CallSequenceStatus.completed: "Completado",
    CallSequenceStatus.do_not_call: "No llamar",
    CallSequenceStatus.failed: "Número no válido",
}

CALL_LEG_STATUS: dict[str, str] = {
    CallLegStatus.initiated: "Marcando",
    CallLegStatus.ringing: "Sonando",
    CallLegStatus.answered: "En conversación",
    CallLegStatus.ended: "Terminada",
}

INDUSTRY: dict[str, str] = {
    IcpIndustry.technology: "Tecnología",
    IcpIndustry.saas: "SaaS",
    IcpIndustry.ecommerce: "Comercio electrónico",
    IcpIndustry.retail: "Comercio minorista",
    IcpIndustry.manufacturing: "Industria",
    IcpIndustry.logistics: "Logística",
    IcpIndustry.construction: "Construcción",
    IcpIndustry.real_estate: "Inmobiliaria",
    IcpIndustry.finance: "Finanzas",
    IcpIndustry.insurance: "Seguros",
    IcpIndustry.healthcare: "Salud",
    IcpIndustry.education: "Educación",
    IcpIndustry.hospitality: "Hostelería",
    IcpIndustry.professional_services: "Servicios profesionales",
    IcpIndustry.marketing: "Marketing",
    IcpIndustry.legal: "Legal",
    IcpIndustry.energy: "Energía",
    IcpIndustry.agriculture: "Agricultura",
    IcpIndustry.public_sector: "Sector público",
    IcpIndustry.other: "Otro",
}

COMPANY_SIZE: dict[str, str] = {
    IcpCompanySize.micro: "Micro (menos de 10)",
    IcpCompanySize.small: "Pequeña (10–49)",
    IcpCompanySize.medium: "Mediana (50–249)",
    IcpCompanySize.large: "Grande (250–999)",
    IcpCompanySize.enterprise: "Corporación (1000+)",
}

VOICE_TYPE: dict[str, str] = {
    VoiceType.male_professional: "Hombre, profesional",
    VoiceType.female_professional: "Mujer, profesional",
    VoiceType.male_friendly: "Hombre, cercano",
    VoiceType.female_friendly: "Mujer, cercana",
}

CONSENT_BASIS: dict[str, str] = {
    ConsentBasis.consent: "Consentimiento",
    ConsentBasis.legitimate_interest: "Interés legítimo",
    ConsentBasis.existing_customer: "Cliente existente",
}

SENTIMENT: dict[str, str] = {"positive": "Positivo", "neutral": "Neutro", "negative": "Negativo"}

#: Play/pause and the other status buttons: target status -> (button text, confirmation key).
STATUS_ACTIONS: dict[str, str] = {
    CampaignStatus.active: "Activar",
    CampaignStatus.paused: "Pausar",
    CampaignStatus.completed: "Finalizar",
    CampaignStatus.archived: "Archivar",
}


def all_labels() -> dict[str, dict[str, str]]:
    """Every label table, for the templates."""
    return {
        "campaign_status": CAMPAIGN_STATUS,
        "outcome": CALL_OUTCOME,
        "prospect_status": PROSPECT_STATUS,
        "leg_status": CALL_LEG_STATUS,
        "industry": INDUSTRY,
        "size": COMPANY_SIZE,
        "voice": VOICE_TYPE,
        "consent": CONSENT_BASIS,
        "sentiment": SENTIMENT,
        "actions": STATUS_ACTIONS,
    }
