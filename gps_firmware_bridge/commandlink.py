"""The TCP servers' side of server commands: send queued commands, match answers, time out.

:class:`CommandLink` joins a :class:`~gps_firmware_bridge.commands.CommandQueue` to the
connections of one :class:`~gps_firmware_bridge.server.TrackerServer`: once a connection is
identified and its first packet after the login / IMEI handshake acknowledged (Teltonika expects
commands after an AVL ACK), :meth:`CommandLink.pump` (an asyncio task of that connection) writes
the device's
commands one at a time and gives up those unanswered after the queue's timeout; the answers the
decoders put in ``DecodeResult.extra`` go through :meth:`CommandLink.observe`. Every outcome is
logged and handed to ``on_outcome`` (the CLI publishes it on ``siaga/v1/cmd/{device_id}/answer``).
Nothing here blocks the decode loop: writes are asyncio writes, the queue only takes a lock.

Commands arrive from the command line (queued before start) or from MQTT through
:meth:`CommandLink.on_message`, subscribed per device once that device is identified
(``subscribe`` callback).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from gps_firmware_bridge.commands import (
    CommandQueue,
    Outcome,
    answer_payload,
    answer_topic,
    command_topic,
    device_of,
    encode,
    parse_option,
    text_of_message,
)
from gps_firmware_bridge.exceptions import CommandError
from gps_firmware_bridge.fix import DecodeResult
from gps_firmware_bridge.tracker_status import responses

log = logging.getLogger(__name__)
#: Seconds between two looks at a connection's queue (send latency of an MQTT command)
POLL_S = 0.2


class MqttSide(Protocol):
    """What the link needs of :class:`~gps_firmware_bridge.publisher.Publisher`."""

    client: Any

    def subscribe(self, topic: str, handler: Callable[[str, bytes], None]) -> None: ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CommandLink:
    """Commands of one TCP server (``gt06`` or ``teltonika``).

    Parameters
    ----------
    protocol : {"gt06", "teltonika"}
        Encoding of the commands.
    queue : CommandQueue
        The commands per device.
    on_outcome : callable or None
        Receives each answered or timed-out command (after it is logged).
    subscribe : callable or None
        ``subscribe(topic)``: called once per identified device with its command topic.
    clock : callable
        Aware-UTC clock.
    poll_s : float
        Seconds between two looks at a connection's queue.
    """

    def __init__(
        self,
        protocol: str,
        queue: CommandQueue,
        on_outcome: Callable[[Outcome], None] | None = None,
        subscribe: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] = _utc_now,
        poll_s: float = POLL_S,
    ) -> None:
        self.protocol = protocol
        self.queue = queue
        self.on_outcome = on_outcome
        self.subscribe = subscribe
        self.clock = clock
        self.poll_s = poll_s
        self._subscribed: set[str] = set()
        self._watcher: asyncio.Task[None] | None = None
        self.outcomes: list[Outcome] = []

    def on_message(self, topic: str, payload: bytes) -> None:
        """MQTT handler of ``siaga/v1/cmd/{device_id}``: queue the payload text as a command."""
        device_id = device_of(topic)
        if device_id is None:
            return
        try:
            command = self.queue.submit(device_id, text_of_message(payload), self.clock())
        except CommandError as exc:
            log.warning("command for %s refused: %s", device_id, exc)
            return
        log.info("command for %s queued: %r", device_id, command.text)

    def observe(self, results: Iterable[DecodeResult]) -> None:
        """Match the command answers among decode ``results`` to the commands in flight."""
        for result in results:
            for answer in responses(result.extra):
                outcome = self.queue.answer(answer.device_id, answer.text, self.clock())
                if outcome is not None:
                    self._finish(outcome)

    def expire(self) -> None:
        """Give up the commands unanswered for longer than the queue's timeout."""
        for outcome in self.queue.expire(self.clock()):
            self._finish(outcome)

    async def pump(self, device_id: str, writer: asyncio.StreamWriter) -> None:
        """Write ``device_id``'s commands on its connection until cancelled (one in flight)."""
        if self._watcher is None or self._watcher.done():
            # expiry runs on the server's loop, also for devices that went offline
            self._watcher = asyncio.create_task(self._watch())
        if self.subscribe is not None and device_id not in self._subscribed:
            self._subscribed.add(device_id)
            self.subscribe(command_topic(device_id))
        serial = 0
        try:
            while not writer.is_closing():
                command = self.queue.next_to_send(device_id, self.clock())
                if command is not None:
                    serial = (serial + 1) & 0xFFFF
                    writer.write(encode(self.protocol, command.text, serial))
                    await writer.drain()
                    log.info("command sent to %s: %r", device_id, command.text)
                await asyncio.sleep(self.poll_s)
        except ConnectionError:
            return  # the connection's own loop notices and closes it

    async def _watch(self) -> None:
        while True:
            self.expire()
            await asyncio.sleep(self.poll_s)

    def _finish(self, outcome: Outcome) -> None:
        command = outcome.command
        if outcome.answer is None:
            log.warning(
                "command to %s unanswered after %.0f s: %r",
                command.device_id,
                self.queue.timeout_s,
                command.text,
            )
        else:
            log.info("command %r to %s answered: %s", command.text, command.device_id,
                     outcome.answer)  # fmt: skip
        self.outcomes.append(outcome)
        del self.outcomes[:-100]
        if self.on_outcome is not None:
            try:
                self.on_outcome(outcome)
            except Exception:  # noqa: BLE001 - a failing publisher must not stop the connection
                log.exception("command outcome of %s not delivered", command.device_id)


def build_link(
    protocol: str,
    options: Iterable[str],
    timeout_s: float,
    publisher: MqttSide | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> CommandLink:
    """The command link of ``siaga-bridge gt06|teltonika``: ``--command IMEI=TEXT`` options
    queued, and with a publisher the MQTT side (per-device command topics subscribed, outcomes
    published as JSON on ``siaga/v1/cmd/{device_id}/answer``, QoS 1). CommandError if an option
    is malformed."""
    queue = CommandQueue(timeout_s)
    now = clock()
    for option in options:
        device_id, text = parse_option(option)
        queue.submit(device_id, text, now)
    if publisher is None:
        return CommandLink(protocol, queue, clock=clock)
    mqtt_side = publisher

    def publish(outcome: Outcome) -> None:
        payload = json.dumps(answer_payload(outcome), separators=(",", ":"))
        mqtt_side.client.publish(answer_topic(outcome.command.device_id), payload, qos=1)

    link = CommandLink(protocol, queue, on_outcome=publish, clock=clock)
    link.subscribe = lambda topic: mqtt_side.subscribe(topic, link.on_message)
    return link
