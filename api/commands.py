"""The work behind the `coldcall` commands that manage data (profiles, imports, demo data).

Each function opens its own engine on `settings.database_url`, applies the migrations first on the
embedded SQLite default (as `coldcall serve` does), and goes through the same services as the API.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.campaigns import CampaignCreate
from api.schemas.icps import IcpCreate
from api.schemas.prospects import ProspectCreate, ProspectImportReport
from api.security import generate_api_key
from api.services.campaigns import create_campaign
from api.services.errors import ServiceError
from api.services.icps import create_icp
from api.services.prospects import create_prospect, import_prospects_csv
from bot.clock import Clock
from bot.settings import Settings
from db.migrate import upgrade_async
from db.models import ApiKey, Campaign, ConsentBasis, Profile
from db.session import create_engine, make_sessionmaker


class CommandError(Exception):
    """A command cannot do what was asked; the message is the sentence to show."""


@asynccontextmanager
async def _session(settings: Settings) -> AsyncIterator[AsyncSession]:
    if settings.database_url.startswith("sqlite"):
        await upgrade_async(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def _new_profile(session: AsyncSession, name: str) -> tuple[Profile, str]:
    key, prefix, digest = generate_api_key()
    profile = Profile(name=name)
    session.add(profile)
    await session.flush()
    session.add(ApiKey(user_id=profile.id, prefix=prefix, key_hash=digest))
    await session.commit()
    return profile, key


async def create_profile(settings: Settings, name: str) -> tuple[uuid.UUID, str]:
    """Create a tenant with one API key; returns (profile id, the key in clear — shown once)."""
    name = name.strip()
    if not name:
        raise CommandError("The profile needs a name.")
    async with _session(settings) as session:
        profile, key = await _new_profile(session, name)
        return profile.id, key


def format_import_report(report: ProspectImportReport) -> str:
    """The import report as lines for a terminal."""
    lines = [
        f"{report.total_rows} rows read: {report.imported} imported, "
        f"{report.skipped_duplicates} duplicates skipped, {len(report.errors) + report.errors_omitted} with errors."
    ]
    lines += [f"  line {e.line}: {e.reason}" for e in report.errors]
    if report.errors_omitted:
        lines.append(f"  ... and {report.errors_omitted} more rows with errors.")
    return "\n".join(lines)


async def import_prospects_file(settings: Settings, campaign_id: str, path: Path) -> str:
    """Import a CSV file into a campaign (any tenant's: the CLI runs with the operator's rights)."""
    try:
        campaign_uuid = uuid.UUID(str(campaign_id))
    except ValueError:
        raise CommandError(f"{campaign_id!r} is not a campaign id (a UUID).") from None
    try:
        content = Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
    async with _session(settings) as session:
        campaign = await session.scalar(select(Campaign).where(Campaign.id == campaign_uuid))
        if campaign is None:
            raise CommandError(f"There is no campaign {campaign_uuid}.")
        owner = await session.get(Profile, campaign.user_id)
        try:
            report = await import_prospects_csv(session, owner, campaign_uuid, content, clock=Clock())
        except ServiceError as exc:
            raise CommandError(exc.message) from None
    return format_import_report(report)


# --- Demo data ----------------------------------------------------------------------------------

DEMO_ICP = {
    "name": "Director Comercial B2B SaaS",
    "description": "Responsables de ventas de empresas SaaS B2B pequeñas que aún prospectan a mano.",
    "industry": "technology",
    "companySize": "small",
    "location": "España",
    "painPoints": ["Prospección manual", "Bajo conversion rate"],
    "goals": ["Más reuniones cualificadas", "Previsión de ventas fiable"],
    "challenges": ["Equipo comercial pequeño", "Poco tiempo para llamar"],
    "decisionMakerRole": "Director Comercial",
    "decisionMakerSeniority": "Director",
    "valueProposition": "Automatiza prospección y aumenta conversión 3x",
    "keyBenefits": ["Más reuniones sin más comerciales", "Llamadas a la hora adecuada"],
}

DEMO_CAMPAIGN = {
    "name": "Q1 2025 Outbound",
    "description": "Campaña de demostración: directores comerciales de SaaS en España.",
    "goal": "Conseguir reuniones de demostración",
    "maxCallsPerDay": 50,
    "scriptTemplate": (
        "Hola {{first_name}}, soy Juan de Wallie. Vi que en {{company}} {{pain_point}}. "
        "{{value_proposition}}. ¿Tienes dos minutos?"
    ),
    # A Madrid geographic number (mobile caller ids are not allowed for commercial calls in Spain).
    "callerId": "+34910000000",
    "transferNumber": "+34910000001",
    "followUpSequence": [1, 3, 7],
}

#: (full name, company, role, region). Numbers are generated in the 6xx/7xx mobile ranges with the
#: fixed "55 5" middle digits, a pattern kept for fiction, so no real subscriber is implied.
DEMO_PEOPLE: tuple[tuple[str, str, str, str], ...] = (
    ("María López García", "TechCorp", "Directora Comercial", "ES-MD"),
    ("Javier Martínez Ruiz", "Nubeo Software", "Director Comercial", "ES-CT"),
    ("Lucía Fernández Díaz", "Datalia", "Head of Sales", "ES-AN"),
    ("Carlos Sánchez Romero", "Facturify", "Director de Ventas", "ES-VC"),
    ("Ana Gómez Navarro", "Reservea", "Directora de Desarrollo de Negocio", "ES-PV"),
    ("David Jiménez Moreno", "LogiSaaS", "Director Comercial", "ES-GA"),
    ("Elena Ruiz Castillo", "Clinicloud", "Directora Comercial", "ES-CL"),
    ("Pablo Hernández Ortega", "Gestoría Digital", "Responsable de Ventas", "ES-AR"),
    ("Carmen Díaz Muñoz", "Agrotech Ibérica", "Directora Comercial", "ES-MC"),
    ("Sergio Moreno Gil", "Turistea", "Director de Ventas", "ES-IB"),
    ("Laura Álvarez Serrano", "Kubo Analytics", "VP de Ventas", "ES-CN"),
    ("Miguel Romero Molina", "Obralia Cloud", "Director Comercial", "ES-AS"),
    ("Paula Torres Delgado", "EduPlaza", "Directora Comercial", "ES-NC"),
    ("Alejandro Navarro Vidal", "Seguralia", "Head of Sales", "ES-CB"),
    ("Marta Domínguez Rubio", "RRHH Online", "Directora de Ventas", "ES-EX"),
    ("Jorge Vázquez Ramos", "Energix", "Director Comercial", "ES-CM"),
    ("Cristina Ramos Iglesias", "Legalbox", "Directora Comercial", "ES-RI"),
    ("Raúl Gil Cortés", "Marketia", "Director de Ventas", "ES-MD"),
    ("Sara Serrano Garrido", "InmoSaaS", "Responsable Comercial", "ES-CT"),
    ("Andrés Molina Peña", "Retailnext", "Director Comercial", "ES-AN"),
)


def demo_phone(index: int) -> str:
    """A valid Spanish mobile number for demo prospect `index` (600 55 50 00, 600 55 50 01, ...)."""
    return f"+3460055{5000 + index:04d}"


async def load_demo_data(settings: Settings) -> str:
    """Create a demo profile with the seed's ICP, a campaign and 20 prospects; returns what to print
    (including the profile's API key, shown once)."""
    clock = Clock()
    async with _session(settings) as session:
        profile, key = await _new_profile(session, "Demo")
        icp = await create_icp(session, profile, IcpCreate.model_validate(DEMO_ICP))
        campaign = await create_campaign(
            session, profile, CampaignCreate.model_validate({**DEMO_CAMPAIGN, "icpId": str(icp.id)})
        )
        for i, (name, company, role, region) in enumerate(DEMO_PEOPLE):
            first = name.split()[0].lower()
            data = ProspectCreate.model_validate(
                {
                    "fullName": name,
                    "company": company,
                    "role": role,
                    "phoneNumber": demo_phone(i),
                    "email": f"{_ascii(first)}@{_ascii(company.lower().replace(' ', ''))}.example",
                    "region": region,
                    "consentBasis": ConsentBasis.legitimate_interest.value,
                }
            )
            await create_prospect(session, profile, campaign.id, data, clock=clock)
    return "\n".join(
        [
            f"Demo profile created: {profile.id}",
            f"API key (shown once, store it now): {key}",
            f"ICP: {icp.name} ({icp.id})",
            f"Campaign (draft): {campaign.name} ({campaign.id}) with {len(DEMO_PEOPLE)} prospects",
            f"Activate it: curl -X POST -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' "
            f"-d '{{\"status\": \"active\"}}' {settings.public_base_url}/api/v1/campaigns/{campaign.id}/status",
        ]
    )


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
