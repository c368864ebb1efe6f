"""CRC-16 variants used by tracker protocols (bitwise, table-free; frames are short)."""

from __future__ import annotations


def crc16_x25(data: bytes) -> int:
    """CRC-16/X-25 (CRC-ITU as GT06 documents call it): poly 0x1021 reflected, init/xorout 0xFFFF.

    Check value: ``crc16_x25(b"123456789") == 0x906E``.
    """
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


def crc16_ibm(data: bytes) -> int:
    """CRC-16/ARC (IBM, used by Teltonika): poly 0x8005 reflected, init 0, no xorout.

    Check value: ``crc16_ibm(b"123456789") == 0xBB3D``.
    """
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc
