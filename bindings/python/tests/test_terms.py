"""Erlang terms in Python (swerl.terms): bytes OTP 25's term_to_binary wrote
(fixtures made with erl), values that go both ways, match statements, and
untrusted bytes refused with where and why."""

import pytest

from swerl import terms
from swerl.terms import Atom, BitString, ErlangPid, ErlangRef, Export, ImproperList

FROM_ERLANG = [
    ("ok", [131, 100, 0, 2, 111, 107], Atom("ok")),
    ("{ok,1,<<\"x\">>}", [131, 104, 3, 100, 0, 2, 111, 107, 97, 1, 109, 0, 0, 0, 1, 120], (Atom("ok"), 1, b"x")),
    ("\"abc\"", [131, 107, 0, 3, 97, 98, 99], [97, 98, 99]),
    ("[]", [131, 106], []),
    ("3.5", [131, 70, 64, 12, 0, 0, 0, 0, 0, 0], 3.5),
    ("-1", [131, 98, 255, 255, 255, 255], -1),
    ("1 bsl 70", [131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 64], 1 << 70),
    ("-(1 bsl 70)", [131, 110, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 64], -(1 << 70)),
    ("#{a => 1}", [131, 116, 0, 0, 0, 1, 100, 0, 1, 97, 97, 1], {Atom("a"): 1}),
    ("<0.9.0>", [131, 88, 100, 0, 13] + list(b"nonode@nohost") + [0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0],
     ErlangPid("nonode@nohost", 9, 0, 0)),
    ("make_ref()", [131, 90, 0, 3, 100, 0, 13] + list(b"nonode@nohost")
     + [0, 0, 0, 0, 0, 3, 185, 196, 93, 140, 0, 2, 197, 143, 81, 48],
     ErlangRef("nonode@nohost", 0, (244164, 1569456130, 3314503984))),
    ("[a|b]", [131, 108, 0, 0, 0, 1, 100, 0, 1, 97, 100, 0, 1, 98], ImproperList((Atom("a"),), Atom("b"))),
    ("<<1:3>>", [131, 77, 0, 0, 0, 1, 3, 32], BitString(b" ", 3)),
    ("fun lists:map/2", [131, 113, 100, 0, 5] + list(b"lists") + [100, 0, 3] + list(b"map") + [97, 2],
     Export("lists", "map", 2)),
    ("true", [131, 100, 0, 4] + list(b"true"), True),
]


@pytest.mark.parametrize("text,data,value", FROM_ERLANG, ids=[f[0] for f in FROM_ERLANG])
def test_bytes_erlang_wrote(text, data, value):
    decoded = terms.decode(bytes(data))
    assert decoded == value and type(decoded) is type(value)


@pytest.mark.parametrize("value", [f[2] for f in FROM_ERLANG] + [
    (Atom("get"), "key as text"), 2**63, -(2**63) - 1, 1.0e300, {(1, 2): [Atom("x"), b""]}, tuple(range(300)),
    list(range(70000)), Atom("héllo"),
])
def test_round_trip(value):
    back = terms.decode(terms.encode(value))
    if isinstance(value, tuple) and len(value) == 2 and value[1] == "key as text":
        assert back == (Atom("get"), b"key as text")        # str goes as a binary
    else:
        assert back == value


def test_match_statement():
    def reply(data):
        match terms.decode(data):
            case ("get", key):
                return b"get " + key
            case ("put", key, value):
                return b"put %s %d" % (key, value)
            case _:
                return b"?"
    assert reply(terms.encode((Atom("get"), b"k"))) == b"get k"
    assert reply(terms.encode((Atom("put"), b"k", 7))) == b"put k 7"
    assert reply(terms.encode(Atom("other"))) == b"?"


@pytest.mark.parametrize("data,words", [
    (b"", "no bytes"),
    (bytes([130, 106]), "version"),
    (bytes([131, 104, 3, 97, 1]), "tuple of 3"),
    (bytes([131, 105, 255, 255, 255, 255]), "tuple of"),
    (bytes([131, 108, 127, 255, 255, 255, 106]), "list of"),
    (bytes([131, 116, 127, 255, 255, 255]), "map of"),
    (bytes([131, 109, 255, 255, 255, 255]), "binary needs"),
    (bytes([131, 110, 1, 2, 5]), "sign byte"),
    (bytes([131, 106, 106]), "after the term"),
    (bytes([131, 80, 0, 0, 0, 1, 120]), "compressed"),
    (bytes([131, 200]), "tag 200"),
    (bytes([131]) + bytes([104, 1]) * 600 + bytes([106]), "nested deeper"),
])
def test_untrusted_bytes(data, words):
    with pytest.raises(terms.DecodeError, match=words):
        terms.decode(data)


def test_values_without_a_term():
    with pytest.raises(TypeError, match="has no Erlang term"):
        terms.encode(None)
