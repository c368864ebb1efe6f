"""dispatch: agencies, SLA, stations, units, incidents, assignments, audit

Revision ID: 0003_dispatch
Revises: 0002_tracking
"""

import sqlalchemy as sa  # noqa: F401

from alembic import op  # noqa: F401

revision = "0003_dispatch"
down_revision = '0002_tracking'
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE agency (
    id serial CONSTRAINT pk_agency PRIMARY KEY,
    kode_kab varchar(8) NOT NULL,
    code varchar(32) NOT NULL,
    name text NOT NULL,
    name_en text NOT NULL DEFAULT '',
    kind varchar(16) NOT NULL DEFAULT 'internal'
        CONSTRAINT ck_agency_kind CHECK (kind IN ('internal', 'external')),
    standby_contact text NOT NULL DEFAULT '',
    handoff_number varchar(16),
    CONSTRAINT uq_agency_kode_kab_code UNIQUE (kode_kab, code)
);
CREATE INDEX ix_agency_kode_kab ON agency (kode_kab);

CREATE TABLE sla_rule (
    id serial CONSTRAINT pk_sla_rule PRIMARY KEY,
    kode_kab varchar(8) NOT NULL,
    agency_id integer NOT NULL
        CONSTRAINT fk_sla_rule_agency_id_agency REFERENCES agency (id) ON DELETE CASCADE,
    category varchar(48) NOT NULL,
    ack_min double precision NOT NULL CONSTRAINT ck_sla_rule_ack_positive CHECK (ack_min > 0),
    on_scene_min double precision NOT NULL
        CONSTRAINT ck_sla_rule_on_scene_positive CHECK (on_scene_min > 0),
    CONSTRAINT uq_sla_rule_agency_id_category UNIQUE (agency_id, category)
);
CREATE INDEX ix_sla_rule_kode_kab ON sla_rule (kode_kab);

CREATE TABLE station (
    id serial CONSTRAINT pk_station PRIMARY KEY,
    kode_kab varchar(8) NOT NULL,
    agency_id integer NOT NULL
        CONSTRAINT fk_station_agency_id_agency REFERENCES agency (id) ON DELETE CASCADE,
    code varchar(48) NOT NULL,
    name text NOT NULL,
    geom geometry(Point, 4326) NOT NULL,
    illustrative boolean NOT NULL DEFAULT false,
    CONSTRAINT uq_station_kode_kab_code UNIQUE (kode_kab, code)
);
CREATE INDEX ix_station_kode_kab ON station (kode_kab);

CREATE TABLE unit (
    id serial CONSTRAINT pk_unit PRIMARY KEY,
    kode_kab varchar(8) NOT NULL,
    agency_id integer NOT NULL
        CONSTRAINT fk_unit_agency_id_agency REFERENCES agency (id) ON DELETE CASCADE,
    call_sign varchar(48) NOT NULL,
    vehicle_type varchar(48) NOT NULL,
    profile varchar(48) NOT NULL,
    capabilities text[] NOT NULL DEFAULT '{}',
    station_id integer
        CONSTRAINT fk_unit_station_id_station REFERENCES station (id) ON DELETE SET NULL,
    device_id varchar(128) CONSTRAINT uq_unit_device_id UNIQUE,
    status varchar(24) NOT NULL DEFAULT 'available'
        CONSTRAINT ck_unit_status CHECK (status IN ('available', 'dispatched', 'en_route',
            'on_scene', 'returning', 'out_of_service')),
    status_changed_at timestamptz,
    illustrative boolean NOT NULL DEFAULT false,
    CONSTRAINT uq_unit_kode_kab_call_sign UNIQUE (kode_kab, call_sign)
);
CREATE INDEX ix_unit_kode_kab ON unit (kode_kab);

CREATE TABLE incident (
    id serial CONSTRAINT pk_incident PRIMARY KEY,
    kode_kab varchar(8) NOT NULL,
    received_at timestamptz NOT NULL,
    channel varchar(24) NOT NULL
        CONSTRAINT ck_incident_channel CHECK (channel IN ('phone_112', 'complaint_line',
            'social_media', 'walk_in', 'app', 'radio')),
    caller_phone varchar(32),
    caller_name text,
    geom geometry(Point, 4326),
    place_text text,
    kode_desa varchar(16),
    nama_desa text,
    kode_kec varchar(12),
    nama_kec text,
    match varchar(16),
    description text NOT NULL DEFAULT '',
    kind varchar(16) CONSTRAINT ck_incident_kind CHECK (kind IN ('emergency', 'public_service')),
    category varchar(48) NOT NULL,
    priority integer CONSTRAINT ck_incident_priority CHECK (priority BETWEEN 1 AND 5),
    status varchar(16) NOT NULL DEFAULT 'new'
        CONSTRAINT ck_incident_status CHECK (status IN ('new', 'triaged', 'dispatched',
            'on_scene', 'resolved', 'closed', 'cancelled', 'duplicate')),
    duplicate_of integer CONSTRAINT fk_incident_duplicate_of_incident REFERENCES incident (id),
    probable_duplicate_of integer
        CONSTRAINT fk_incident_probable_duplicate_of_incident REFERENCES incident (id),
    triage_overridden boolean NOT NULL DEFAULT false,
    created_by text,
    updated_at timestamptz
);
CREATE INDEX ix_incident_kode_kab ON incident (kode_kab);
CREATE INDEX ix_incident_status_received ON incident (kode_kab, status, received_at);
CREATE INDEX ix_incident_geom ON incident USING gist (geom);

CREATE TABLE incident_agency (
    id serial CONSTRAINT pk_incident_agency PRIMARY KEY,
    kode_kab varchar(8) NOT NULL,
    incident_id integer NOT NULL
        CONSTRAINT fk_incident_agency_incident_id_incident REFERENCES incident (id)
        ON DELETE CASCADE,
    agency_id integer NOT NULL
        CONSTRAINT fk_incident_agency_agency_id_agency REFERENCES agency (id),
    role varchar(16) NOT NULL
        CONSTRAINT ck_incident_agency_role CHECK (role IN ('dispatch', 'standby', 'forward',
            'handoff')),
    required boolean NOT NULL DEFAULT true,
    capabilities text[] NOT NULL DEFAULT '{}',
    units_required integer NOT NULL DEFAULT 0,
    ack_min double precision NOT NULL,
    on_scene_min double precision NOT NULL,
    notified_at timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by text,
    escalated_at timestamptz,
    escalation_count integer NOT NULL DEFAULT 0,
    handoff_number varchar(16),
    handoff_ref text,
    handoff_at timestamptz,
    handoff_by text,
    resolved_at timestamptz,
    CONSTRAINT uq_incident_agency_incident_id_agency_id UNIQUE (incident_id, agency_id)
);
CREATE INDEX ix_incident_agency_kode_kab ON incident_agency (kode_kab);

CREATE TABLE assignment (
    id serial CONSTRAINT pk_assignment PRIMARY KEY,
    kode_kab varchar(8) NOT NULL,
    incident_id integer NOT NULL
        CONSTRAINT fk_assignment_incident_id_incident REFERENCES incident (id) ON DELETE CASCADE,
    unit_id integer NOT NULL CONSTRAINT fk_assignment_unit_id_unit REFERENCES unit (id),
    agency_id integer NOT NULL CONSTRAINT fk_assignment_agency_id_agency REFERENCES agency (id),
    status varchar(16) NOT NULL DEFAULT 'active'
        CONSTRAINT ck_assignment_status CHECK (status IN ('active', 'cleared', 'cancelled')),
    dispatched_at timestamptz NOT NULL,
    dispatched_by text,
    acknowledged_at timestamptz,
    departed_at timestamptz,
    arrived_at timestamptz,
    cleared_at timestamptz,
    eta_s double precision,
    distance_m double precision,
    estimated boolean NOT NULL DEFAULT false,
    position_source varchar(16),
    arrival_source varchar(8)
        CONSTRAINT ck_assignment_arrival_source CHECK (arrival_source IN ('gps', 'manual')),
    arrived_by text,
    evidence_digest varchar(128),
    evidence jsonb
);
CREATE INDEX ix_assignment_kode_kab ON assignment (kode_kab);
CREATE INDEX ix_assignment_incident_id ON assignment (incident_id);
-- At most one active assignment per unit: the database itself refuses a double booking.
CREATE UNIQUE INDEX uq_assignment_active_unit ON assignment (unit_id) WHERE status = 'active';

CREATE TABLE audit_log (
    id bigserial CONSTRAINT pk_audit_log PRIMARY KEY,
    kode_kab varchar(8),
    actor text NOT NULL,
    at timestamptz NOT NULL,
    entity varchar(32) NOT NULL,
    entity_id bigint,
    action varchar(48) NOT NULL,
    before jsonb,
    after jsonb
);
CREATE INDEX ix_audit_log_kode_kab ON audit_log (kode_kab);
CREATE INDEX ix_audit_log_entity ON audit_log (entity, entity_id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
"""

DOWNGRADE = r"""
DROP TABLE IF EXISTS audit_log;
DROP FUNCTION IF EXISTS audit_log_append_only();
DROP TABLE IF EXISTS assignment;
DROP TABLE IF EXISTS incident_agency;
DROP TABLE IF EXISTS incident;
DROP TABLE IF EXISTS unit;
DROP TABLE IF EXISTS station;
DROP TABLE IF EXISTS sla_rule;
DROP TABLE IF EXISTS agency;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
