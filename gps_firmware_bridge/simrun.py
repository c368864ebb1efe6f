"""``siaga-bridge simulate``: the real-time loop around :class:`Simulator`."""

from __future__ import annotations

import argparse
import logging
import queue
import time
from datetime import UTC, datetime
from typing import Protocol

from gps_firmware_bridge.exceptions import BridgeError
from gps_firmware_bridge.fix import Fix
from gps_firmware_bridge.roads import load_roads
from gps_firmware_bridge.simulator import Simulator, load_fleet

log = logging.getLogger(__name__)
COMMAND_TOPICS = ("siaga/v1/sim/+/goto", "siaga/v1/sim/+/home")


class _Runtime(Protocol):
    publisher: object

    def sink(self, fixes: list[Fix]) -> None: ...


def run_simulate(args: argparse.Namespace, rt) -> int:  # noqa: ANN001 - cli.Runtime
    """Drive the simulated fleet in real time (times ``--speedup``) until ``--duration``."""
    graph = load_roads(args.roads)
    fleet = (
        load_fleet(args.fleet)
        if args.fleet
        else Simulator.random_fleet(graph, args.units, args.seed)
    )
    interval = 1.0 / args.rate if args.rate else args.interval
    sim = Simulator(
        graph,
        fleet,
        report_interval_s=interval,
        noise_m=args.noise_m,
        dropout_rate=args.dropout_rate,
        dropout_s=args.dropout_s,
        wander=args.wander or bool(args.rate),
        seed=args.seed,
    )
    commands: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
    for topic in COMMAND_TOPICS:
        rt.publisher.subscribe(topic, lambda t, p: commands.put((t, p)))
    rt.publisher.start()
    log.info(
        "simulating %d units on %d road nodes, a fix every %.2f s",
        len(sim.units),
        len(graph.points),
        interval,
    )
    tick_s = min(1.0, interval)
    started = time.monotonic()
    next_tick = started
    while args.duration is None or time.monotonic() - started < args.duration:
        while True:
            try:
                topic, payload = commands.get_nowait()
            except Exception:  # noqa: BLE001 - queue.Empty
                break
            try:
                sim.command(topic, payload)
                log.info("command %s applied", topic)
            except (BridgeError, ValueError, KeyError, TypeError) as exc:
                log.warning("command %s refused: %s", topic, exc)
        # Fix times stay on the real clock (consumers check them against theirs); --speedup only
        # makes units cover more road per tick.
        rt.sink(sim.step(tick_s * args.speedup, datetime.now(UTC)))
        next_tick += tick_s
        time.sleep(max(0.0, next_tick - time.monotonic()))
    return 0
