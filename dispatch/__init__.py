"""Dispatch: incidents, triage, agencies (OPD) and SLA, units, recommendation, assignments,
audit, and GPS verification of arrival on scene."""
