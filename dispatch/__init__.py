"""Incidents, triage, agencies (OPD), units, recommendation, assignments and SLA clocks."""
