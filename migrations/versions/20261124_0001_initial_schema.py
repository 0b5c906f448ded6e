"""initial schema: tenants, the seed's four tables, do-not-call list, webhook events

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 21:32:30.400241
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('profiles',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profiles'))
    )
    op.create_table('api_keys',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_api_keys_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_user_id'), ['user_id'], unique=False)

    op.create_table('clients',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('full_name', sa.Text(), nullable=False),
    sa.Column('company', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('phone_number', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_clients_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clients'))
    )
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clients_user_id'), ['user_id'], unique=False)

    op.create_table('do_not_call_numbers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('phone_number', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_do_not_call_numbers_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_do_not_call_numbers')),
    sa.UniqueConstraint('user_id', 'phone_number', name='uq_do_not_call_numbers_user_phone')
    )
    with op.batch_alter_table('do_not_call_numbers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_do_not_call_numbers_user_id'), ['user_id'], unique=False)

    op.create_table('ideal_customer_profiles',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('industry', sa.Enum('technology', 'saas', 'ecommerce', 'retail', 'manufacturing', 'logistics', 'construction', 'real_estate', 'finance', 'insurance', 'healthcare', 'education', 'hospitality', 'professional_services', 'marketing', 'legal', 'energy', 'agriculture', 'public_sector', 'other', name='icp_industry', create_constraint=True), nullable=True),
    sa.Column('company_size', sa.Enum('micro', 'small', 'medium', 'large', 'enterprise', name='icp_company_size', create_constraint=True), nullable=True),
    sa.Column('revenue', sa.Text(), nullable=True),
    sa.Column('location', sa.Text(), nullable=True),
    sa.Column('pain_points', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('goals', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('challenges', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('decision_maker_role', sa.Text(), nullable=True),
    sa.Column('decision_maker_seniority', sa.Text(), nullable=True),
    sa.Column('value_proposition', sa.Text(), nullable=True),
    sa.Column('key_benefits', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('call_script', sa.Text(), nullable=True),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_ideal_customer_profiles_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ideal_customer_profiles'))
    )
    with op.batch_alter_table('ideal_customer_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ideal_customer_profiles_user_id'), ['user_id'], unique=False)

    op.create_table('cold_call_campaigns',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('icp_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('goal', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'active', 'paused', 'completed', 'archived', name='campaign_status', create_constraint=True), server_default='draft', nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('max_calls_per_day', sa.Integer(), server_default=sa.text('50'), nullable=False),
    sa.Column('max_concurrent_calls', sa.Integer(), server_default=sa.text('5'), nullable=False),
    sa.Column('max_attempts', sa.Integer(), server_default=sa.text('3'), nullable=False),
    sa.Column('call_window_start', sa.Integer(), server_default=sa.text('9'), nullable=False),
    sa.Column('call_window_end', sa.Integer(), server_default=sa.text('18'), nullable=False),
    sa.Column('timezone', sa.Text(), server_default='Europe/Madrid', nullable=False),
    sa.Column('language', sa.Text(), server_default='es-ES', nullable=False),
    sa.Column('script_template', sa.Text(), nullable=True),
    sa.Column('objection_handling', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('follow_up_sequence', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('caller_id', sa.Text(), nullable=True),
    sa.Column('transfer_number', sa.Text(), nullable=True),
    sa.Column('voice_type', sa.Enum('male_professional', 'female_professional', 'male_friendly', 'female_friendly', name='voice_type', create_constraint=True), server_default='male_professional', nullable=False),
    sa.Column('pregenerated_replies', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('total_calls', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('calls_completed', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('calls_answered', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('calls_interested', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('conversion_rate', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('start_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint('call_window_end >= 0 AND call_window_end <= 24', name=op.f('ck_cold_call_campaigns_window_end_range')),
    sa.CheckConstraint('call_window_start < call_window_end', name=op.f('ck_cold_call_campaigns_window_order')),
    sa.CheckConstraint('call_window_start >= 0 AND call_window_start <= 24', name=op.f('ck_cold_call_campaigns_window_start_range')),
    sa.CheckConstraint('max_calls_per_day >= 1', name=op.f('ck_cold_call_campaigns_max_calls_per_day_positive')),
    sa.ForeignKeyConstraint(['icp_id'], ['ideal_customer_profiles.id'], name=op.f('fk_cold_call_campaigns_icp_id_ideal_customer_profiles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_cold_call_campaigns_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cold_call_campaigns'))
    )
    with op.batch_alter_table('cold_call_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cold_call_campaigns_icp_id'), ['icp_id'], unique=False)
        batch_op.create_index('ix_cold_call_campaigns_status', ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cold_call_campaigns_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_cold_call_campaigns_user_status', ['user_id', 'status'], unique=False)

    op.create_table('cold_call_prospects',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=True),
    sa.Column('full_name', sa.Text(), nullable=False),
    sa.Column('company', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), nullable=True),
    sa.Column('phone_number', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('linkedin_url', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('custom_fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('region', sa.Text(), nullable=True),
    sa.Column('timezone', sa.Text(), nullable=True),
    sa.Column('consent_basis', sa.Enum('consent', 'legitimate_interest', 'existing_customer', name='consent_basis', create_constraint=True), nullable=True),
    sa.Column('status', sa.Enum('pending', 'scheduled', 'in_progress', 'completed', 'do_not_call', 'failed', name='call_sequence_status', create_constraint=True), server_default='pending', nullable=False),
    sa.Column('current_step', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('total_attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('last_call_outcome', sa.Enum('answered', 'no_answer', 'voicemail', 'busy', 'failed', 'interested', 'not_interested', 'callback', 'wrong_number', name='call_outcome', create_constraint=True), nullable=True),
    sa.Column('last_call_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_call_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('callback_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('technical_retries', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('is_qualified', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('is_converted', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('converted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['cold_call_campaigns.id'], name=op.f('fk_cold_call_prospects_campaign_id_cold_call_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_cold_call_prospects_client_id_clients'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_cold_call_prospects_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cold_call_prospects')),
    sa.UniqueConstraint('campaign_id', 'phone_number', name='uq_cold_call_prospects_campaign_phone')
    )
    with op.batch_alter_table('cold_call_prospects', schema=None) as batch_op:
        batch_op.create_index('ix_cold_call_prospects_campaign_status', ['campaign_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cold_call_prospects_client_id'), ['client_id'], unique=False)
        batch_op.create_index('ix_cold_call_prospects_due', ['next_call_at', 'campaign_id'], unique=False, postgresql_where=sa.text("status IN ('pending', 'scheduled')"), sqlite_where=sa.text("status IN ('pending', 'scheduled')"))
        batch_op.create_index(batch_op.f('ix_cold_call_prospects_user_id'), ['user_id'], unique=False)

    op.create_table('cold_call_logs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('prospect_id', sa.Uuid(), nullable=True),
    sa.Column('call_sid', sa.Text(), nullable=True),
    sa.Column('call_session_id', sa.Text(), nullable=True),
    sa.Column('from_number', sa.Text(), nullable=True),
    sa.Column('to_number', sa.Text(), nullable=True),
    sa.Column('attempt', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('status', sa.Enum('initiated', 'ringing', 'answered', 'ended', name='call_leg_status', create_constraint=True), server_default='initiated', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Enum('answered', 'no_answer', 'voicemail', 'busy', 'failed', 'interested', 'not_interested', 'callback', 'wrong_number', name='call_outcome', create_constraint=True), nullable=True),
    sa.Column('hangup_cause', sa.Text(), nullable=True),
    sa.Column('machine_detection', sa.Text(), nullable=True),
    sa.Column('transcription', sa.Text(), nullable=True),
    sa.Column('transcript', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('recording_url', sa.Text(), nullable=True),
    sa.Column('sentiment', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('next_steps', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('metadata', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['cold_call_campaigns.id'], name=op.f('fk_cold_call_logs_campaign_id_cold_call_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['prospect_id'], ['cold_call_prospects.id'], name=op.f('fk_cold_call_logs_prospect_id_cold_call_prospects'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_cold_call_logs_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cold_call_logs'))
    )
    with op.batch_alter_table('cold_call_logs', schema=None) as batch_op:
        batch_op.create_index('ix_cold_call_logs_call_sid', ['call_sid'], unique=True)
        batch_op.create_index('ix_cold_call_logs_campaign_created', ['campaign_id', 'created_at'], unique=False)
        batch_op.create_index('ix_cold_call_logs_campaign_status', ['campaign_id', 'status'], unique=False)
        batch_op.create_index('ix_cold_call_logs_prospect_created', ['prospect_id', 'created_at'], unique=False)
        batch_op.create_index('ix_cold_call_logs_user_created', ['user_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cold_call_logs_user_id'), ['user_id'], unique=False)

    op.create_table('telnyx_webhook_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Text(), nullable=False),
    sa.Column('event_type', sa.Text(), nullable=False),
    sa.Column('call_log_id', sa.Uuid(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['call_log_id'], ['cold_call_logs.id'], name=op.f('fk_telnyx_webhook_events_call_log_id_cold_call_logs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_telnyx_webhook_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_telnyx_webhook_events_event_id'))
    )
    with op.batch_alter_table('telnyx_webhook_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_telnyx_webhook_events_call_log_id'), ['call_log_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('telnyx_webhook_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_telnyx_webhook_events_call_log_id'))

    op.drop_table('telnyx_webhook_events')
    with op.batch_alter_table('cold_call_logs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cold_call_logs_user_id'))
        batch_op.drop_index('ix_cold_call_logs_user_created')
        batch_op.drop_index('ix_cold_call_logs_prospect_created')
        batch_op.drop_index('ix_cold_call_logs_campaign_status')
        batch_op.drop_index('ix_cold_call_logs_campaign_created')
        batch_op.drop_index('ix_cold_call_logs_call_sid')

    op.drop_table('cold_call_logs')
    with op.batch_alter_table('cold_call_prospects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cold_call_prospects_user_id'))
        batch_op.drop_index('ix_cold_call_prospects_due', postgresql_where=sa.text("status IN ('pending', 'scheduled')"), sqlite_where=sa.text("status IN ('pending', 'scheduled')"))
        batch_op.drop_index(batch_op.f('ix_cold_call_prospects_client_id'))
        batch_op.drop_index('ix_cold_call_prospects_campaign_status')

    op.drop_table('cold_call_prospects')
    with op.batch_alter_table('cold_call_campaigns', schema=None) as batch_op:
        batch_op.drop_index('ix_cold_call_campaigns_user_status')
        batch_op.drop_index(batch_op.f('ix_cold_call_campaigns_user_id'))
        batch_op.drop_index('ix_cold_call_campaigns_status')
        batch_op.drop_index(batch_op.f('ix_cold_call_campaigns_icp_id'))

    op.drop_table('cold_call_campaigns')
    with op.batch_alter_table('ideal_customer_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ideal_customer_profiles_user_id'))

    op.drop_table('ideal_customer_profiles')
    with op.batch_alter_table('do_not_call_numbers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_do_not_call_numbers_user_id'))

    op.drop_table('do_not_call_numbers')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clients_user_id'))

    op.drop_table('clients')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_user_id'))

    op.drop_table('api_keys')
    op.drop_table('profiles')
    # PostgreSQL keeps the native enum types after their tables are gone.
    if op.get_bind().dialect.name == "postgresql":
        for name in _ENUM_TYPES:
            op.execute(sa.text(f"DROP TYPE IF EXISTS {name}"))


_ENUM_TYPES = (
    "campaign_status",
    "call_outcome",
    "call_sequence_status",
    "icp_industry",
    "icp_company_size",
    "voice_type",
    "consent_basis",
    "call_leg_status",
)
