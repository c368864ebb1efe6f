"""Adaptive reporting and the command line's documented modes."""

from datetime import timedelta

from gps_firmware_bridge.cli import build_parser
from gps_firmware_bridge.fix import Fix
from gps_firmware_bridge.reporting import ReportGate, ReportPolicy

from ._vectors import when

T0 = when("2026-11-23T01:00:00Z")


def _stream(speed, seconds, heading=90.0):
    return [
        Fix("GW", T0 + timedelta(seconds=s), 110.36, -7.8, speed_mps=speed, heading_deg=heading)
        for s in range(seconds)
    ]


def test_parked_reports_every_minute_moving_every_five_seconds():
    gate = ReportGate(ReportPolicy(moving_interval_s=5, parked_interval_s=60))
    assert sum(gate.admit(f) for f in _stream(0.0, 180)) == 3
    gate = ReportGate(ReportPolicy(moving_interval_s=5, parked_interval_s=60))
    assert sum(gate.admit(f) for f in _stream(12.0, 60)) == 12


def test_assignment_interval_and_turns():
    gate = ReportGate(ReportPolicy(assignment_interval_s=2), on_assignment=True)
    assert sum(gate.admit(f) for f in _stream(0.0, 10)) == 5
    gate = ReportGate(ReportPolicy(moving_interval_s=30))
    fixes = _stream(10.0, 3) + [
        Fix("GW", T0 + timedelta(seconds=3), 110.36, -7.8, speed_mps=10.0, heading_deg=180.0)
    ]
    assert [gate.admit(f) for f in fixes] == [True, False, False, True]


def test_help_documents_every_mode():
    parser = build_parser()
    text = parser.format_help()
    for mode in ("nmea", "gt06", "teltonika", "osmand", "simulate", "outbox"):
        assert mode in text
    sub = parser.parse_args(
        [
            "gt06",
            "--port",
            "6000",
            "--mqtt-url",
            "mqtt://h:1",
            "--username",
            "u",
            "--password",
            "p",
            "--outbox",
            "x.sqlite",
            "--client-id",
            "c",
        ]
    )
    assert (sub.port, sub.mqtt_url, sub.username, sub.outbox, sub.client_id) == (
        6000,
        "mqtt://h:1",
        "u",
        "x.sqlite",
        "c",
    )
