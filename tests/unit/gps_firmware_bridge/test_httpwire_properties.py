"""The HTTP request reader of the OsmAnd server: framing rules and Hypothesis properties over
random bytes, split and truncated input and arbitrary Content-Length values."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gps_firmware_bridge.exceptions import HttpRequestError
from gps_firmware_bridge.httpwire import (
    HttpRequest,
    RequestReader,
    head_end,
    parse_head,
    response,
)

PROPS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_all(chunks: list[bytes], max_body: int = 65536) -> HttpRequest | None:
    reader = RequestReader(max_body=max_body)
    request = None
    for chunk in chunks:
        request = reader.feed(chunk)
        if request is not None:
            return request
    return request


def test_form_post_is_read_with_its_body():
    raw = b"POST /x HTTP/1.1\r\nContent-Length: 7\r\nContent-Type: a/b\r\n\r\nid=1&a=2"
    request = read_all([raw])
    assert request == HttpRequest("POST", "/x", {"content-length": "7", "content-type": "a/b"},
                                  b"id=1&a=")  # fmt: skip


@pytest.mark.parametrize(
    ("length", "status"),
    [("-1", 400), ("abc", 400), ("", 400), ("+5", 400), ("5, 6", 400), ("²", 400), ("70000", 413)],
)
def test_content_length_is_judged_with_the_head(length, status):
    reader = RequestReader()
    with pytest.raises(HttpRequestError) as err:
        reader.feed(f"POST / HTTP/1.1\r\nContent-Length: {length}\r\n\r\n".encode())
    assert err.value.status == status
    assert " / " in err.value.message  # Indonesian / English


def test_over_long_head_is_431_before_its_end():
    reader = RequestReader(max_head=1024)
    assert reader.feed(b"GET / HTTP/1.1\r\nX: " + b"a" * 1000) is None
    with pytest.raises(HttpRequestError) as err:
        reader.feed(b"a" * 100)
    assert err.value.status == 431


def test_response_is_complete_and_closes():
    raw = response(400, "salah / wrong")
    assert raw.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Content-Length: 14\r\n" in raw and b"Connection: close" in raw
    assert raw.endswith(b"\r\n\r\nsalah / wrong\n")


def _splits(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


@PROPS
@given(st.binary(max_size=2000), st.lists(st.integers(0, 2000), max_size=8))
def test_random_bytes_give_a_request_none_or_a_typed_error(data, cuts):
    try:
        result = read_all(_splits(data, cuts))
    except HttpRequestError as exc:
        assert exc.status in (400, 405, 411, 413, 431, 505)
        assert exc.message
        return
    assert result is None or isinstance(result, HttpRequest)


header_names = st.sampled_from(["Host", "Content-Type", "User-Agent", "X-A", "Content-Length"])
header_values = st.text(
    st.characters(min_codepoint=0, max_codepoint=255, exclude_characters="\r\n"), max_size=30
)


@PROPS
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "G ET", ""]),
    target=st.text(max_size=60),
    headers=st.lists(st.tuples(header_names, header_values), max_size=6),
    body=st.binary(max_size=300),
    cuts=st.lists(st.integers(0, 800), max_size=6),
    truncate=st.integers(0, 800),
)
def test_requests_parse_alike_whatever_the_split_and_truncation_only_waits(
    method, target, headers, body, cuts, truncate
):
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    raw = head.encode("utf-8", "surrogatepass") + b"\r\n" + body
    try:
        whole = read_all([raw])
    except HttpRequestError as exc:
        with pytest.raises(HttpRequestError) as again:
            read_all(_splits(raw, cuts))
        assert again.value.status == exc.status
        return
    assert read_all(_splits(raw, cuts)) == whole
    if whole is not None:
        needed = (head_end(raw) or 0) + len(whole.body)  # bytes beyond are not part of it
        if truncate < needed:
            assert read_all([raw[:truncate]]) is None  # truncated: keep waiting
        else:
            assert read_all([raw[:truncate]]) == whole


@PROPS
@given(st.text(max_size=25))
def test_any_content_length_text(text):
    try:
        request, length = parse_head(f"POST / HTTP/1.1\r\nContent-Length: {text}\r\n".encode())
    except HttpRequestError as exc:
        assert exc.status in (400, 413)
        return
    assert 0 <= length <= 65536 and request.method == "POST"
