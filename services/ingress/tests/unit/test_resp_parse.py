"""RESP replies arrive in arbitrary pieces: a reply is taken only once all of it is there."""

from hypothesis import given
from hypothesis import strategies as st

from ingress.resp import _INCOMPLETE, RedisReplyError, pack, parse

STREAM = b"+OK\r\n:42\r\n$-1\r\n$5\r\nh\xc3\xa9la\r\n-NOSCRIPT No matching script\r\n*3\r\n:1\r\n$1\r\na\r\n*1\r\n:2\r\n"


def replies(buf: bytearray) -> list:
    out, pos = [], 0
    while True:
        reply, after = parse(buf, pos)
        if reply is _INCOMPLETE:
            del buf[:pos]
            return out
        out.append(reply)
        pos = after


def test_every_reply_type():
    got = replies(bytearray(STREAM))
    assert got[:4] == ["OK", 42, None, "héla"]
    assert isinstance(got[4], RedisReplyError) and str(got[4]).startswith("NOSCRIPT")
    assert got[5] == [1, "a", [2]]


@given(st.lists(st.integers(min_value=1, max_value=len(STREAM) - 1), unique=True).map(sorted))
def test_the_same_replies_whatever_the_pieces(cuts):
    buf, got = bytearray(), []
    for start, end in zip([0, *cuts], [*cuts, len(STREAM)], strict=True):
        buf += STREAM[start:end]
        got += replies(buf)
    assert buf == b""
    assert [str(r) if isinstance(r, RedisReplyError) else r for r in got] == [
        "OK",
        42,
        None,
        "héla",
        "NOSCRIPT No matching script",
        [1, "a", [2]],
    ]


def test_pack():
    assert pack(("EVALSHA", "ab", 1, "k", 0.5, b"\x00")) == (
        b"*6\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n$1\r\n1\r\n$1\r\nk\r\n$3\r\n0.5\r\n$1\r\n\x00\r\n"
    )
