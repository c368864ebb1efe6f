"""Bounded decoding of MQTT payload bytes into JSON values, and the limits of stored values (pure).

:func:`decode_json` is the only place the ingest path turns untrusted bytes into Python objects.
It bounds the work before :func:`json.loads` runs: the payload size (:data:`MAX_PAYLOAD_BYTES`)
and the nesting depth of arrays and objects (:data:`MAX_DEPTH`, counted on the raw bytes with
C-speed byte operations, so a ``[[[[...]]]]`` bomb is refused without recursing). Every failure,
whatever its kind (invalid UTF-8, bad syntax, a 5,000-digit integer, nesting too deep), is a
:class:`~tracking.plausibility.Problem` with a reason code, never an exception.

The ``*_MAX``/``*_MIN`` constants are the ranges of the ``position`` columns (PostgreSQL
``int4``, ``int8``, ``float8``); :func:`text_problem` is the rule for stored text (no NUL, no lone
surrogate: PostgreSQL ``text`` in UTF-8 holds neither).
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from tracking.plausibility import Problem

#: largest payload decoded (the shipped brokers' ``max_packet_size`` is the same 1 MiB)
MAX_PAYLOAD_BYTES = 1024 * 1024
#: deepest nesting of arrays/objects decoded (a native batch is 2 deep, OwnTracks at most 3)
MAX_DEPTH = 16
INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1
#: the largest finite float8 (a JSON number beyond it decodes to infinity)
FLOAT8_MAX = sys.float_info.max

#: every byte except the four brackets and the quote (deleted to leave the skeleton)
_NOT_SKELETON = bytes(b for b in range(256) if b not in b'[]{}"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_FORBIDDEN_TEXT = re.compile("[\x00\ud800-\udfff]")


def _bracket_skeleton(payload: bytes) -> bytes:
    """The brackets of ``payload`` outside JSON strings, in order.

    Common case (no backslash) in C-speed byte operations: keep only quotes and brackets, then
    drop adjacent quote pairs (strings without brackets); left to right, this pairs every
    string's quotes exactly when no string holds a bracket. Otherwise (a backslash, or a quote
    left) escaped backslashes and quotes are removed, so every remaining ``"`` delimits a string,
    and the parts between strings are kept.
    """
    if b"\\" not in payload:
        skeleton = payload.translate(None, _NOT_SKELETON).replace(b'""', b"")
        if b'"' not in skeleton:
            return skeleton
    plain = payload.replace(b"\\\\", b"").replace(b'\\"', b"")
    return b"".join(plain.split(b'"')[::2]).translate(None, _NOT_BRACKETS)


def _depth_problem(payload: bytes) -> Problem | None:
    """``nesting_too_deep`` / ``malformed_json`` from the bracket structure, else ``None``.

    Balanced pairs are removed from the skeleton one nesting level per pass: valid JSON always
    reduces to nothing, in as many passes as it is deep.
    """
    if len(payload) < 4096 and payload.count(b"[") + payload.count(b"{") <= MAX_DEPTH:
        return None  # too few openings to be too deep (a single fix has one)
    skeleton = _bracket_skeleton(payload)
    for _ in range(MAX_DEPTH):
        if not skeleton:
            return None
        reduced = skeleton.replace(b"[]", b"").replace(b"{}", b"")
        if reduced == skeleton:
            return Problem("malformed_json", "Payload bukan JSON yang valid: kurung tidak "
                           "berpasangan.", "Payload is not valid JSON: unbalanced brackets.")
        skeleton = reduced
    if not skeleton:
        return None
    return Problem("nesting_too_deep",
                   f"Payload bersarang lebih dari {MAX_DEPTH} tingkat larik/objek.",
                   f"Payload is nested more than {MAX_DEPTH} levels of arrays/objects deep.")


def decode_json(payload: bytes) -> tuple[Any, Problem | None]:
    """Decode ``payload`` as JSON within the size and depth bounds; never raises.

    Returns ``(value, None)`` or ``(None, problem)`` with reason ``payload_too_large``,
    ``nesting_too_deep`` or ``malformed_json``. ``NaN``/``Infinity`` literals decode to floats
    (the field checks reject them as not finite).
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None, Problem(
            "payload_too_large",
            f"Payload {len(payload)} byte melebihi batas {MAX_PAYLOAD_BYTES} byte.",
            f"Payload of {len(payload)} bytes exceeds the limit of {MAX_PAYLOAD_BYTES} bytes.")
    problem = _depth_problem(payload)
    if problem is not None:
        return None, problem
    try:
        return json.loads(payload), None
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        detail = str(exc)[:200].encode("ascii", "backslashreplace").decode("ascii")
        return None, Problem("malformed_json", f"Payload bukan JSON yang valid: {detail}.",
                             f"Payload is not valid JSON: {detail}.")


def text_problem(value: str) -> bool:
    """Whether ``value`` cannot be stored as PostgreSQL ``text`` (NUL or a lone surrogate)."""
    return _FORBIDDEN_TEXT.search(value) is not None


def storable_text(value: str) -> str:
    """``value`` with NUL and lone surrogates escaped (``\\x00``, ``\\ud800``), for reject rows."""
    if not text_problem(value):
        return value
    return _FORBIDDEN_TEXT.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"),
                               value)
