"""``siaga-bridge``: tracker protocols, NMEA and a fleet simulator to Siaga MQTT.

Every mode stores each decoded fix in the durable outbox first and publishes it at QoS 1 to
``siaga/v1/pos/{device_id}``; the GT06 and Teltonika servers publish the reports of trackers
without a GPS fix (cell towers / Wi-Fi) to ``siaga/v1/status/{device_id}``; see
``siaga-bridge MODE --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import socket
import sys
import threading
from dataclasses import asdict
from datetime import UTC, datetime

from gps_firmware_bridge.exceptions import BridgeError
from gps_firmware_bridge.fix import Fix, Rejection
from gps_firmware_bridge.nmea import NmeaAssembler
from gps_firmware_bridge.nmeasource import nmea_lines
from gps_firmware_bridge.outbox import Outbox
from gps_firmware_bridge.publisher import MqttConfig, Publisher
from gps_firmware_bridge.reporting import ReportGate, ReportPolicy
from gps_firmware_bridge.status import status_payload, status_topic
from gps_firmware_bridge.tracker_status import NoFix

log = logging.getLogger("siaga-bridge")

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
EXIT_REFUSED = 3
#: GT06 models whose frames cannot be told apart from the frame alone (Gt06Session.model)
GT06_MODELS = ("NT20", "QH302R", "LW4G-4B", "R11")
#: seconds ``simulate --duration`` waits at the end for the broker to acknowledge its fixes
SIMULATE_DRAIN_S = 10.0


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


class Runtime:
    """Outbox + publisher composition for one run of a mode."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.outbox = Outbox(
            args.outbox,
            max_rows=args.max_rows,
            max_age_s=args.max_age,
            replay_last=args.replay_last,
        )
        self.publisher = Publisher(
            self.outbox,
            MqttConfig(
                args.mqtt_url,
                args.client_id,
                args.username,
                args.password,
                protocol=args.mqtt_protocol,
            ),
            batch_size=args.batch_size,
        )
        self.stored = 0

    def sink(self, fixes: list[Fix]) -> None:
        """Store fixes durably, then wake the publisher."""
        if fixes:
            self.outbox.put_many(fixes)
            self.stored += len(fixes)
            self.publisher.notify()

    def status_sink(self, records: list[NoFix], received_at: datetime) -> None:
        """Publish the no-fix records as tracker status (newest per device, QoS 1)."""
        for record in records:
            payload = status_payload(record, received_at)
            self.publisher.put_status(
                status_topic(record.device_id), json.dumps(payload, separators=(",", ":"))
            )

    def close(self) -> None:
        """Stop publishing and close the outbox."""
        self.publisher.stop()
        self.outbox.close()


def _delivery_status(rt: Runtime) -> int:
    """Exit status after a drain: 3 (and a message) when the broker refused anything."""
    pub = rt.publisher
    if pub.connect_refusal is not None:
        print(
            f"siaga-bridge: broker menolak koneksi ({pub.connect_refusal}) / "
            f"broker refused the connection ({pub.connect_refusal})",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    if pub.refused_fixes:
        print(
            f"siaga-bridge: broker menolak {pub.refused_fixes} posisi ({pub.last_refusal}), "
            f"{pub.delivered_fixes} terkirim; yang ditolak tetap di outbox / broker refused "
            f"{pub.refused_fixes} fixes ({pub.last_refusal}), {pub.delivered_fixes} delivered; "
            "the refused ones stay in the outbox (siaga-bridge outbox --retry-refused)",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    return 0


def run_nmea(args: argparse.Namespace, rt: Runtime) -> int:
    """NMEA gateway mode."""
    policy = ReportPolicy(args.moving_interval, args.parked_interval, args.assignment_interval)
    gate = ReportGate(policy, on_assignment=args.on_assignment)

    def on_assignment(topic: str, payload: bytes) -> None:
        gate.on_assignment = bool(json.loads(payload.decode("utf-8")).get("active"))

    rt.publisher.subscribe(f"siaga/v1/gw/{args.device_id}/assignment", on_assignment)
    rt.publisher.start()
    asm = NmeaAssembler(args.device_id)

    def handle(items: list[Fix | Rejection]) -> None:
        keep = [i for i in items if isinstance(i, Fix) and (args.every_fix or gate.admit(i))]
        for item in items:
            if isinstance(item, Rejection) and item.reason != "no_fix":
                log.info("NMEA rejected: %s %s", item.reason, item.detail)
        rt.sink(keep)

    for line in nmea_lines(args):
        now = datetime.now(UTC)
        handle(asm.flush(now) if line is None else asm.feed(line, now))
    handle(asm.flush(datetime.now(UTC)))
    log.info("end of NMEA input: %d fixes stored", rt.stored)
    if args.exit_when_drained:
        rt.publisher.wait_drained(timeout_s=1e9)
        return _delivery_status(rt)
    _wait_forever()
    return 0


def run_tcp(args: argparse.Namespace, rt: Runtime) -> int:
    """GT06 or Teltonika TCP server mode."""
    from gps_firmware_bridge.commandlink import build_link
    from gps_firmware_bridge.server import TrackerServer

    link = build_link(args.mode, args.command, args.command_timeout, rt.publisher)
    rt.publisher.start()
    server = TrackerServer(
        args.mode,
        rt.sink,
        strict_crc=args.strict_crc,
        model=getattr(args, "model", None),
        status_sink=rt.status_sink,
        commands=link,
    )

    async def main() -> None:
        port = await server.start(args.host, args.port)
        log.info("%s server listening on %s:%d", args.mode, args.host, port)
        await server.serve_forever()

    asyncio.run(main())
    return 0


def run_osmand(args: argparse.Namespace, rt: Runtime) -> int:
    """OsmAnd HTTP server mode."""
    from gps_firmware_bridge.server import OsmAndServer

    rt.publisher.start()
    server = OsmAndServer(
        (args.host, args.port),
        rt.sink,
        speed_unit=args.speed_unit,
        max_connections=args.max_connections,
        workers=args.workers,
        header_timeout_s=args.request_timeout,
        body_timeout_s=args.request_timeout,
    )
    log.info("osmand server listening on %s:%d", args.host, args.port)
    server.serve_forever()
    return 0


def run_outbox(args: argparse.Namespace, rt: Runtime) -> int:
    """Print outbox counts; with --drain publish the backlog first."""
    if args.retry_refused:
        log.info("%d refused fixes put back in the outbox", rt.outbox.requeue_refused())
    if args.drain:
        rt.publisher.start()
        ok = rt.publisher.wait_drained(args.timeout or 1e9)
        print(json.dumps(asdict(rt.outbox.stats())))
        status = _delivery_status(rt)
        return status if status or ok else 1
    print(json.dumps(asdict(rt.outbox.stats())))
    return 0


def _wait_forever() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``siaga-bridge``."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        rt = Runtime(args)
    except BridgeError as exc:
        print(f"siaga-bridge: {exc}", file=sys.stderr)
        return 2
    try:
        if args.mode == "nmea":
            return run_nmea(args, rt)
        if args.mode in ("gt06", "teltonika"):
            return run_tcp(args, rt)
        if args.mode == "osmand":
            return run_osmand(args, rt)
        if args.mode == "simulate":
            from gps_firmware_bridge.simrun import run_simulate

            status = run_simulate(args, rt)
            rt.publisher.wait_drained(timeout_s=SIMULATE_DRAIN_S)
            return status or _delivery_status(rt)
        return run_outbox(args, rt)
    except BridgeError as exc:
        print(f"siaga-bridge: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        rt.close()


if __name__ == "__main__":
    sys.exit(main())
