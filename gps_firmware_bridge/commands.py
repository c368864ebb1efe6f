"""Server commands to connected trackers: a queue per device, encoding and the answer message.

An operator queues a text command for a device (``siaga-bridge teltonika --command IMEI=getinfo``
or MQTT ``siaga/v1/cmd/{device_id}``); the TCP server sends it once that device is connected and
identified (Teltonika IMEI handshake, GT06 login), as a Teltonika Codec 12 command
(:func:`gps_firmware_bridge.teltonika.command_packet`) or a GT06 ``0x80`` server command
(:func:`gps_firmware_bridge.gt06_framing.command_frame`). At most one command per device is in
flight: the next one is sent after the device answered (Codec 12/13, GT06 ``0x15`` / ``0x21``) or
after the answer timed out. An answer is matched to the device's command in flight; an answer
without one (an unsolicited text message) is not a command answer.

Everything here is pure and thread-safe (one lock): the clock is passed in, no I/O.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gps_firmware_bridge import teltonika
from gps_firmware_bridge.exceptions import CommandError
from gps_firmware_bridge.fix import format_time
from gps_firmware_bridge.gt06_framing import command_frame

#: Longest command text accepted (a GT06 0x80 command length byte holds 4 + text)
MAX_COMMAND_CHARS = 200
DEFAULT_TIMEOUT_S = 60.0
#: Most commands waiting per device; more are refused (a flood never grows memory unbounded)
MAX_PENDING_PER_DEVICE = 50
TOPIC_PREFIX = "siaga/v1/cmd/"


@dataclass(frozen=True, slots=True)
class Command:
    """One command for a device; ``sent_at`` is set when it is written to the connection."""

    device_id: str
    text: str
    queued_at: datetime
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """A finished command: ``answer`` is ``None`` when it timed out (``answered_at`` too)."""

    command: Command
    answer: str | None
    answered_at: datetime | None

    @property
    def status(self) -> str:
        """``answered`` or ``timeout``."""
        return "answered" if self.answer is not None else "timeout"


def check_text(text: str) -> str:
    """The command text if it can be sent (printable ASCII, 1..200 chars), else CommandError."""
    if not text or len(text) > MAX_COMMAND_CHARS or not text.isascii() or not text.isprintable():
        raise CommandError(
            "perintah harus teks ASCII yang dapat dicetak, 1 sampai "
            f"{MAX_COMMAND_CHARS} karakter: {text[:40]!r} / the command must be printable ASCII "
            f"text of 1 to {MAX_COMMAND_CHARS} characters: {text[:40]!r}"
        )
    return text


def parse_option(value: str) -> tuple[str, str]:
    """``IMEI=TEXT`` (the ``--command`` option) as ``(device_id, text)``; CommandError if bad."""
    device_id, sep, text = value.partition("=")
    device_id = device_id.strip()
    if not sep or not device_id.isdigit():
        raise CommandError(
            f"--command harus berbentuk IMEI=TEKS, bukan {value!r} / "
            f"--command must look like IMEI=TEXT, not {value!r}"
        )
    return device_id, check_text(text)


def encode(protocol: str, text: str, serial: int = 0) -> bytes:
    """The bytes of ``text`` as a server command of ``protocol`` (``teltonika`` or ``gt06``)."""
    check_text(text)
    if protocol == "teltonika":
        return teltonika.command_packet(text)
    if protocol == "gt06":
        return command_frame(text, serial & 0xFFFF)
    raise CommandError(f"protokol tanpa perintah: {protocol!r} / no commands for {protocol!r}")


def command_topic(device_id: str) -> str:
    """Topic an operator publishes a command for ``device_id`` on."""
    return f"{TOPIC_PREFIX}{device_id}"


def answer_topic(device_id: str) -> str:
    """Topic the bridge publishes the outcome of a command of ``device_id`` on."""
    return f"{TOPIC_PREFIX}{device_id}/answer"


def device_of(topic: str) -> str | None:
    """The device id of a command topic ``siaga/v1/cmd/{device_id}``, else ``None``."""
    if not topic.startswith(TOPIC_PREFIX):
        return None
    rest = topic[len(TOPIC_PREFIX) :]
    return rest if rest and "/" not in rest else None


def text_of_message(payload: bytes) -> str:
    """The command text of an MQTT command payload (plain UTF-8 text); CommandError if unusable."""
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise CommandError("perintah MQTT bukan UTF-8 / the MQTT command is not UTF-8") from exc
    return check_text(text)


def answer_payload(outcome: Outcome) -> dict[str, Any]:
    """The JSON object published on :func:`answer_topic` (times ISO 8601 UTC, ``Z``)."""
    command = outcome.command
    return {
        "device_id": command.device_id,
        "command": command.text,
        "answer": outcome.answer,
        "status": outcome.status,
        "sent_at": format_time(command.sent_at) if command.sent_at else None,
        "answered_at": format_time(outcome.answered_at) if outcome.answered_at else None,
    }


class CommandQueue:
    """Commands waiting per device, in submission order, with at most one in flight per device.

    Parameters
    ----------
    timeout_s : float
        Seconds after sending without an answer before the command is given up (an
        :class:`Outcome` with ``answer=None``); the device's next command may then be sent.
    max_pending : int
        Most commands waiting per device; :meth:`submit` refuses more.
    """

    def __init__(
        self, timeout_s: float = DEFAULT_TIMEOUT_S, max_pending: int = MAX_PENDING_PER_DEVICE
    ) -> None:
        if timeout_s <= 0:
            raise CommandError("batas waktu perintah harus > 0 / the command timeout must be > 0")
        self.timeout_s = timeout_s
        self.max_pending = max_pending
        self._lock = threading.Lock()
        self._waiting: dict[str, deque[Command]] = {}
        self._inflight: dict[str, Command] = {}

    def submit(self, device_id: str, text: str, now: datetime) -> Command:
        """Queue ``text`` for ``device_id``; CommandError for bad text or a full queue."""
        command = Command(device_id, check_text(text), now)
        with self._lock:
            waiting = self._waiting.setdefault(device_id, deque())
            if len(waiting) >= self.max_pending:
                raise CommandError(
                    f"antrean perintah {device_id} penuh ({self.max_pending}) / "
                    f"the command queue of {device_id} is full ({self.max_pending})"
                )
            waiting.append(command)
        return command

    def next_to_send(self, device_id: str | None, now: datetime) -> Command | None:
        """The device's next command, marked in flight (sent at ``now``); ``None`` when the
        connection is not identified yet, nothing waits, or a command is already in flight."""
        if device_id is None:
            return None
        with self._lock:
            waiting = self._waiting.get(device_id)
            if device_id in self._inflight or not waiting:
                return None
            command = replace(waiting.popleft(), sent_at=now)
            if not waiting:
                del self._waiting[device_id]
            self._inflight[device_id] = command
            return command

    def answer(self, device_id: str, text: str, now: datetime) -> Outcome | None:
        """Complete the device's command in flight with ``text``; ``None`` if none was."""
        with self._lock:
            command = self._inflight.pop(device_id, None)
        return None if command is None else Outcome(command, text, now)

    def expire(self, now: datetime) -> list[Outcome]:
        """Give up every command in flight for longer than the timeout (unanswered)."""
        with self._lock:
            late = [
                c
                for c in self._inflight.values()
                if c.sent_at is not None and (now - c.sent_at).total_seconds() >= self.timeout_s
            ]
            for command in late:
                del self._inflight[command.device_id]
        return [Outcome(c, None, None) for c in late]

    def pending(self, device_id: str) -> tuple[Command, ...]:
        """The device's commands not sent yet, oldest first."""
        with self._lock:
            return tuple(self._waiting.get(device_id, ()))

    def in_flight(self, device_id: str) -> Command | None:
        """The device's command sent and not yet answered or expired."""
        with self._lock:
            return self._inflight.get(device_id)
