"""sla rules: the Perbup agency/SLA matrix per regency by effective date; complaint follow-up

Revision ID: 0009_sla_rules
Revises: 0008_registry

* ``sla_rule_set``: one version of a regency's Perbup SLA rules (the validated document as
  JSONB, see ``dispatch.perbup``), in force from ``effective_from``; the service never updates one
  (a correction is a new version, the highest version of a date wins).
* ``complaint_ticket``: a public-service complaint forwarded to an OPD: the ticket number the
  citizen quotes, the follow-up deadline and status (received, in progress, done, rejected with
  a reason).
"""

import sqlalchemy as sa  # noqa: F401

from alembic import op  # noqa: F401

revision = "0009_sla_rules"
down_revision = "0008_registry"
branch_labels = None
depends_on = None

TICKET_STATUSES = ("received", "in_progress", "done", "rejected")


def upgrade() -> None:
    statuses = ", ".join(f"'{s}'" for s in TICKET_STATUSES)
    op.execute(f"""
CREATE TABLE sla_rule_set (
    id serial CONSTRAINT pk_sla_rule_set PRIMARY KEY,
    kode_kab varchar(8) NOT NULL,
    version integer NOT NULL CONSTRAINT ck_sla_rule_set_version CHECK (version >= 1),
    effective_from timestamptz NOT NULL,
    reference text NOT NULL DEFAULT '',
    document jsonb NOT NULL,
    created_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_sla_rule_set_kode_kab_version UNIQUE (kode_kab, version)
);
CREATE INDEX ix_sla_rule_set_kode_kab_effective_from
    ON sla_rule_set (kode_kab, effective_from DESC, version DESC);

CREATE TABLE complaint_ticket (
    id serial CONSTRAINT pk_complaint_ticket PRIMARY KEY,
    kode_kab varchar(8) NOT NULL,
    ticket_no varchar(32) NOT NULL CONSTRAINT uq_complaint_ticket_ticket_no UNIQUE,
    incident_id integer NOT NULL
        CONSTRAINT fk_complaint_ticket_incident_id_incident REFERENCES incident (id)
        ON DELETE CASCADE,
    agency_id integer NOT NULL
        CONSTRAINT fk_complaint_ticket_agency_id_agency REFERENCES agency (id),
    status varchar(16) NOT NULL DEFAULT 'received'
        CONSTRAINT ck_complaint_ticket_status CHECK (status IN ({statuses})),
    reason text,
    due_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by text,
    closed_at timestamptz,
    CONSTRAINT uq_complaint_ticket_incident_id_agency_id UNIQUE (incident_id, agency_id),
    CONSTRAINT ck_complaint_ticket_rejected_has_reason
        CHECK (status <> 'rejected' OR coalesce(btrim(reason), '') <> ''),
    CONSTRAINT ck_complaint_ticket_closed
        CHECK ((status IN ('done', 'rejected')) = (closed_at IS NOT NULL))
);
CREATE INDEX ix_complaint_ticket_kode_kab ON complaint_ticket (kode_kab);
CREATE INDEX ix_complaint_ticket_open_due
    ON complaint_ticket (kode_kab, agency_id, due_at) WHERE closed_at IS NULL;
""")


def downgrade() -> None:
    op.execute("""
DROP TABLE IF EXISTS complaint_ticket;
DROP TABLE IF EXISTS sla_rule_set;
""")
