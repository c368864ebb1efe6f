"""The ``siaga-bridge`` command line: modes and options (argparse), apart from running them."""

from __future__ import annotations

import argparse
import os
import socket

DESCRIPTION = """\
Siaga GPS bridge: turns trackers into Siaga MQTT positions (siaga/v1/pos/{device_id}, QoS 1),
with a durable store-and-forward outbox (nothing is lost while the broker is unreachable).
GT06/Teltonika reports without a GPS fix (cell towers only) are published as tracker status on
siaga/v1/status/{device_id} (QoS 1, newest per device), never as positions.

modes:
  nmea        NMEA 0183 from a serial GNSS receiver (--serial), a TCP stream such as gpsd's raw
              port (--tcp HOST:PORT) or a file (--file); gateway mode with adaptive reporting
  gt06        TCP server for GT06 / Concox trackers (--port, default 5023)
  teltonika   TCP server for Teltonika Codec 8 / 8 Extended (--port, default 5027)
  osmand      HTTP server for OsmAnd / Traccar Client phones (--port, default 5055)
  simulate    N virtual units driving real roads (--roads CSV or OSM XML), commands on
              siaga/v1/sim/{device_id}/goto and .../home; --rate for load tests
  outbox      show outbox counts and drop counters (--drain: publish the backlog and exit;
              --retry-refused: resend the fixes the broker refused)

common options (after the mode): --mqtt-url, --username/--password, --outbox PATH, --client-id,
--mqtt-protocol

exit status: 0 done; 1 --drain timed out; 2 bad option or unusable outbox; 3 the broker refused
the connection or some fixes (MQTT v5 reason code, e.g. the ACL): they stay in the outbox
(outbox --drain, nmea --exit-when-drained, simulate --duration).
"""
#: GT06 models whose frames cannot be told apart from the frame alone (Gt06Session.model)
GT06_MODELS = ("NT20", "QH302R", "LW4G-4B", "R11")


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("MQTT and outbox (all modes)")
    g.add_argument(
        "--mqtt-url",
        default=os.environ.get("SIAGA_MQTT_URL", "mqtt://127.0.0.1:1883"),
        help="broker URL mqtt://host:port or mqtts://host:port (env SIAGA_MQTT_URL)",
    )
    g.add_argument(
        "--username",
        default=os.environ.get("SIAGA_BRIDGE_USERNAME"),
        help="MQTT username; the broker ACL lets it publish only siaga/v1/pos/<username>",
    )
    g.add_argument(
        "--password",
        default=os.environ.get("SIAGA_BRIDGE_PASSWORD"),
        help="MQTT password (prefer env SIAGA_BRIDGE_PASSWORD)",
    )
    g.add_argument(
        "--mqtt-protocol",
        choices=("5", "3.1.1"),
        default=os.environ.get("SIAGA_BRIDGE_MQTT_PROTOCOL", "5"),
        help="MQTT version (default 5: the broker reports refused publishes; 3.1.1 cannot)",
    )
    g.add_argument(
        "--client-id",
        default=f"siaga-bridge-{socket.gethostname()}",
        help="MQTT client id, unique per gateway",
    )
    g.add_argument(
        "--outbox",
        default=os.environ.get("SIAGA_BRIDGE_OUTBOX", "siaga-bridge-outbox.sqlite"),
        help="SQLite outbox file (store-and-forward)",
    )
    g.add_argument(
        "--max-rows",
        type=int,
        default=200_000,
        help="outbox bound: oldest fixes beyond this are dropped (counted)",
    )
    g.add_argument(
        "--max-age",
        type=float,
        default=7 * 86400.0,
        help="outbox bound in seconds: older fixes are dropped (counted)",
    )
    g.add_argument(
        "--replay-last",
        type=int,
        default=200,
        metavar="K",
        help="keep the last K acknowledged messages and publish them again after a lost "
        "connection, in case the broker crashed before saving them (default 200; 0 disables)",
    )
    g.add_argument(
        "--batch-size", type=int, default=100, help="max fixes per backlog array payload"
    )
    g.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING")
    return p


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``siaga-bridge`` (every mode documented in ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="siaga-bridge",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="mode", required=True, metavar="MODE")
    common = _common()

    p = sub.add_parser("nmea", parents=[common], help="NMEA 0183: serial, TCP or file")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--serial", metavar="DEVICE", help="serial port, e.g. /dev/ttyUSB0")
    src.add_argument("--tcp", metavar="HOST:PORT", help="raw NMEA TCP stream, e.g. gpsd :2947")
    src.add_argument("--file", metavar="PATH", help="NMEA log file")
    p.add_argument("--baud", type=int, default=9600, help="serial speed (default 9600)")
    p.add_argument("--device-id", required=True, help="id published for this vehicle")
    p.add_argument(
        "--moving-interval",
        type=float,
        default=5.0,
        help="seconds between fixes while moving (default 5)",
    )
    p.add_argument(
        "--parked-interval",
        type=float,
        default=60.0,
        help="seconds between fixes while parked (default 60)",
    )
    p.add_argument(
        "--assignment-interval",
        type=float,
        default=3.0,
        help="seconds between fixes while on an active assignment (default 3)",
    )
    p.add_argument(
        "--on-assignment",
        action="store_true",
        help="start in assignment mode (also set by siaga/v1/gw/{device_id}/assignment "
        'payload {"active": true|false})',
    )
    p.add_argument("--every-fix", action="store_true", help="disable adaptive reporting")
    p.add_argument(
        "--idle-flush",
        type=float,
        default=1.0,
        help="serial/TCP: close the open epoch after this many seconds without input (default 1)",
    )
    p.add_argument(
        "--exit-when-drained",
        action="store_true",
        help="file mode: exit once every fix was acknowledged by the broker",
    )

    for name, port in (("gt06", 5023), ("teltonika", 5027)):
        p = sub.add_parser(name, parents=[common], help=f"{name} TCP tracker server")
        p.add_argument("--host", default="0.0.0.0", help="listen address")
        p.add_argument("--port", type=int, default=port, help=f"TCP port (default {port})")
        p.add_argument(
            "--command",
            action="append",
            default=[],
            metavar="IMEI=TEXT",
            help="send TEXT (e.g. getinfo, WHERE#) once device IMEI is connected (repeatable); "
            "more arrive on MQTT siaga/v1/cmd/IMEI, answers on siaga/v1/cmd/IMEI/answer",
        )
        p.add_argument(
            "--command-timeout",
            type=float,
            default=60.0,
            help="seconds to wait for a command's answer before logging it unanswered",
        )
        p.add_argument(
            "--strict-crc",
            action="store_true",
            help="refuse (no ACK) frames with a wrong CRC or length field; by default they are "
            "decoded as Traccar does and each device is logged once",
        )
        if name == "gt06":
            p.add_argument(
                "--model",
                choices=GT06_MODELS,
                type=str.upper,
                help="device model, only for models whose frames need it: "
                + ", ".join(GT06_MODELS)
                + " (other GT06/Concox devices: leave unset)",
            )

    p = sub.add_parser("osmand", parents=[common], help="OsmAnd / Traccar Client HTTP server")
    p.add_argument("--host", default="0.0.0.0", help="listen address")
    p.add_argument("--port", type=int, default=5055, help="HTTP port (default 5055)")
    p.add_argument(
        "--speed-unit",
        choices=("kn", "mps", "kmh"),
        default="kn",
        help="unit of the speed parameter (OsmAnd protocol: knots, as Traccar)",
    )
    p.add_argument(
        "--max-connections", type=int, default=1024, help="open connections served at once"
    )
    p.add_argument(
        "--request-timeout",
        type=float,
        default=10.0,
        help="seconds allowed for a request head, and again for its body (default 10)",
    )
    p.add_argument("--workers", type=int, default=4, help="decoding/storing threads (default 4)")

    p = sub.add_parser("simulate", parents=[common], help="virtual fleet on real roads")
    p.add_argument(
        "--roads",
        required=True,
        help="road file: routing export CSV (siaga roads export) or OSM XML (.osm)",
    )
    p.add_argument("--fleet", help='fleet JSON [{"device_id":..,"lat":..,"lon":..}] or CSV')
    p.add_argument("--units", type=int, default=5, help="random units when no --fleet")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between fixes per unit")
    p.add_argument(
        "--rate", type=float, help="load mode: fixes per second per unit (e.g. 1), units wander"
    )
    p.add_argument("--speedup", type=float, default=1.0, help="simulated seconds per real second")
    p.add_argument("--duration", type=float, help="stop after this many real seconds")
    p.add_argument("--noise-m", type=float, default=3.0, help="GPS noise std-dev, metres")
    p.add_argument(
        "--dropout-rate",
        type=float,
        default=0.0,
        help="cellular dropouts per unit per minute (fixes held, then flushed)",
    )
    p.add_argument("--dropout-s", type=float, default=120.0, help="dropout length, seconds")
    p.add_argument("--wander", action="store_true", help="idle units drive to random places")
    p.add_argument("--seed", type=int, default=0, help="random seed")

    p = sub.add_parser("outbox", parents=[common], help="inspect (or drain) the outbox")
    p.add_argument(
        "--drain",
        action="store_true",
        help="publish every stored fix, exit when the outbox is empty",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=0.0,
        help="--drain: give up after seconds (0 = wait forever)",
    )
    p.add_argument(
        "--retry-refused",
        action="store_true",
        help="put the fixes the broker refused back in the outbox (after fixing the ACL)",
    )
    return parser
