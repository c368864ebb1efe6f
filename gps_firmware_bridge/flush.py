"""Which MQTT messages to publish next from the outbox: the pure planning of a flush.

Policy, per device:

* After a (re)connect, a device with a backlog (two or more stored fixes) first gets its
  **newest** fix alone, so the dispatcher immediately sees where the unit is now.
* Then its remaining fixes go oldest first, as JSON arrays of at most ``batch_size`` fixes (a
  single remaining fix is sent as a plain object).

Each message lists the outbox row ids it carries; they are deleted when its PUBACK arrives.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from gps_firmware_bridge.fix import topic_for
from gps_firmware_bridge.outbox import OutboxRow


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT publication: topic, exact payload text, and the outbox row ids it carries."""

    topic: str
    payload: str
    row_ids: tuple[int, ...]
    seqs: tuple[int, ...]


def message_for(rows: list[OutboxRow]) -> Message:
    """Build the message of one device's rows: an object for one row, an array for several."""
    device = rows[0].device_id
    if len(rows) == 1:
        text = rows[0].payload
    else:
        text = "[" + ",".join(r.payload for r in rows) + "]"
    return Message(topic_for(device), text, tuple(r.id for r in rows), tuple(r.seq for r in rows))


def plan_flush(
    rows: list[OutboxRow],
    batch_size: int,
    max_messages: int,
    newest: list[OutboxRow] | None = None,
) -> list[Message]:
    """Plan up to ``max_messages`` messages.

    Parameters
    ----------
    rows : list of OutboxRow
        Pending rows not in flight, ordered by row id (oldest first).
    batch_size : int
        Maximum fixes in one array payload.
    max_messages : int
        Budget (free in-flight slots).
    newest : list of OutboxRow, optional
        The newest row of each device that had a backlog at (re)connect: each goes first, alone.
        Their ids are skipped in ``rows``.
    """
    out: list[Message] = []
    skip: set[int] = set()
    for row in newest or []:
        if len(out) >= max_messages:
            return out
        out.append(message_for([row]))
        skip.add(row.id)
    by_device: OrderedDict[str, list[OutboxRow]] = OrderedDict()
    for row in rows:
        if row.id not in skip:
            by_device.setdefault(row.device_id, []).append(row)
    for dev_rows in by_device.values():
        while dev_rows and len(out) < max_messages:
            out.append(message_for(dev_rows[:batch_size]))
            dev_rows = dev_rows[batch_size:]
    return out
