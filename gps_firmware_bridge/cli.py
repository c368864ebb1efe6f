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
import signal
import sys
import threading
from dataclasses import asdict
from datetime import UTC, datetime

from gps_firmware_bridge.cli_args import build_parser
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

EXIT_REFUSED = 3
#: seconds ``simulate --duration`` waits at the end for the broker to acknowledge its fixes
SIMULATE_DRAIN_S = 10.0


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
