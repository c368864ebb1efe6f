"""Bounds-checked big-endian reads over a tracker packet (shared by the binary decoders)."""

from __future__ import annotations

import struct


class Short(Exception):
    """Internal: a packet body ends before a field it announces."""


class Reader:
    """Big-endian reads over a packet body; raises :class:`Short` past its end."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise Short
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def skip(self, n: int) -> None:
        self.take(n)

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def sint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big", signed=True)

    def u8(self) -> int:
        return self.uint(1)

    def u16(self) -> int:
        return self.uint(2)

    def peek(self, offset: int = 0) -> int:
        if self.pos + offset >= len(self.data):
            raise Short
        return self.data[self.pos + offset]

    def float32(self) -> float:
        return float(struct.unpack(">f", self.take(4))[0])
