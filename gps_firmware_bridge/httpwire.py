"""HTTP/1.x request reading without I/O: the request head, its framing and the response bytes.

:class:`RequestReader` is fed the bytes of one connection as they arrive and returns the complete
:class:`HttpRequest` once the head and the ``Content-Length`` body are in. Everything a client can
get wrong raises :class:`~gps_firmware_bridge.exceptions.HttpRequestError` with the status to
answer, as soon as it is known: a bad or negative ``Content-Length`` is a 400 and one above the
body limit a 413 **before** any body byte is awaited; an over-long head is a 431; a chunked body a
411 (phones send ``Content-Length``); methods other than GET/POST a 405.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gps_firmware_bridge.exceptions import HttpRequestError

MAX_HEAD_BYTES = 8192
MAX_BODY_BYTES = 65536
METHODS = ("GET", "POST")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
_DIGITS = re.compile(r"^[0-9]{1,18}$")
_VERSION = re.compile(r"^HTTP/1\.[01]$")
STATUS_TEXT = {
    200: "OK",
    400: "Bad Request",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One request: method, request target, lower-cased header names (last value), body."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header, or ``""``."""
        return self.headers.get("content-type", "")


def _bad(detail_id: str, detail_en: str, status: int = 400) -> HttpRequestError:
    return HttpRequestError(status, f"{detail_id} / {detail_en}")


def head_end(buffer: bytes) -> int | None:
    """Offset just past the blank line ending the head (CRLF or bare LF), or ``None``."""
    ends = [i + 4 for i in (buffer.find(b"\r\n\r\n"),) if i >= 0]
    ends += [i + 2 for i in (buffer.find(b"\n\n"),) if i >= 0]
    return min(ends) if ends else None


def _content_length(values: list[str], max_body: int) -> int:
    texts = {v.strip() for value in values for v in value.split(",")}
    if len(texts) != 1:
        raise _bad("Content-Length ganda dan berbeda", "conflicting Content-Length values", 400)
    text = texts.pop()
    if not _DIGITS.match(text):
        shown = repr(text[:30])
        raise _bad(
            f"Content-Length {shown} bukan bilangan bulat tak negatif",
            f"Content-Length {shown} is not a non-negative integer",
        )
    length = int(text)
    if length > max_body:
        raise _bad(
            f"badan permintaan {length} byte melebihi batas {max_body} byte",
            f"request body of {length} bytes exceeds the {max_body}-byte limit",
            413,
        )
    return length


def parse_head(head: bytes, max_body: int = MAX_BODY_BYTES) -> tuple[HttpRequest, int]:
    """Parse a request head (request line + header lines, blank line included or not).

    Returns
    -------
    tuple
        The request (empty body) and the number of body bytes that follow (``Content-Length``).

    Raises
    ------
    HttpRequestError
        The request cannot be served; ``status`` says how to answer.
    """
    if b"\x00" in head:
        raise _bad("kepala permintaan berisi byte NUL", "request head contains a NUL byte")
    lines = head.decode("latin-1").split("\n")
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    while lines and lines[-1] == "":
        lines.pop()
    while lines and lines[0] == "":  # RFC 9112 2.2: ignore blank lines before the request line
        lines.pop(0)
    if not lines:
        raise _bad("permintaan kosong", "empty request")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not _TOKEN.match(parts[0]) or not parts[1]:
        raise _bad(
            f"baris permintaan tidak sah: {lines[0][:60]!r}",
            f"malformed request line: {lines[0][:60]!r}",
        )
    method, target, version = parts
    if not _VERSION.match(version):
        raise _bad(
            f"versi HTTP {version[:20]!r} tidak didukung",
            f"HTTP version {version[:20]!r} not supported",
            505 if version.startswith("HTTP/") else 400,
        )
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        raise _bad("target permintaan berisi karakter kendali", "request target has control chars")
    headers: dict[str, str] = {}
    lengths: list[str] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.match(name):
            raise _bad(
                f"baris header tidak sah: {line[:60]!r}", f"malformed header line: {line[:60]!r}"
            )
        key = name.lower()
        value = value.strip(" \t")
        if key == "content-length":
            lengths.append(value)
        headers[key] = value
    if method not in METHODS:
        raise _bad(
            f"metode {method!r} tidak didukung (GET atau POST)",
            f"method {method!r} not allowed (GET or POST)",
            405,
        )
    if "transfer-encoding" in headers:
        raise _bad(
            "Transfer-Encoding tidak didukung, kirim Content-Length",
            "Transfer-Encoding is not supported, send Content-Length",
            411,
        )
    length = _content_length(lengths, max_body) if lengths else 0
    return HttpRequest(method, target, headers), length


class RequestReader:
    """Incremental reader of one request from a byte stream (no I/O).

    Parameters
    ----------
    max_head : int
        Largest accepted head, bytes (431 beyond).
    max_body : int
        Largest accepted ``Content-Length``, bytes (413 beyond).
    """

    def __init__(self, max_head: int = MAX_HEAD_BYTES, max_body: int = MAX_BODY_BYTES) -> None:
        self.max_head = max_head
        self.max_body = max_body
        self._buffer = b""
        self._request: HttpRequest | None = None
        self._length = 0

    @property
    def head_complete(self) -> bool:
        """True once the head was parsed (the body may still be missing)."""
        return self._request is not None

    def feed(self, data: bytes) -> HttpRequest | None:
        """Add received bytes; returns the whole request once complete, else ``None``.

        Raises
        ------
        HttpRequestError
            As soon as the bytes received show the request cannot be served.
        """
        self._buffer += data
        if self._request is None:
            end = head_end(self._buffer)
            if end is None or end > self.max_head:
                if len(self._buffer) > self.max_head:
                    raise _bad(
                        f"kepala permintaan melebihi {self.max_head} byte",
                        f"request head exceeds {self.max_head} bytes",
                        431,
                    )
                return None
            self._request, self._length = parse_head(self._buffer[:end], self.max_body)
            self._buffer = self._buffer[end:]
        if len(self._buffer) < self._length:
            return None
        req = self._request
        return HttpRequest(req.method, req.target, req.headers, self._buffer[: self._length])


def response(status: int, text: str) -> bytes:
    """A complete ``Connection: close`` response with a UTF-8 plain-text body."""
    body = (text + "\n").encode("utf-8") if text else b""
    head = (
        f"HTTP/1.1 {status} {STATUS_TEXT.get(status, 'Error')}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body
