"""SoQL tokenizer, following socrata-platform/soql-reference's lexer (``SoQLLexer.flex``): ``--`` and
``/* */`` comments, ``::`` and ``^``, single-quoted strings (``''`` escapes a quote), double-quoted
strings with backslash escapes, backtick-quoted identifiers (which may hold ``-``), ASCII digits only."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kcdata.portal.soqlast import SoqlError


# ---- tokenizer -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # ident | sysident | qident | number | string | op | eof
    text: str
    pos: int


KEYWORDS = frozenset({"and", "or", "not", "is", "null", "in", "between", "like", "as", "asc", "desc",
                      "true", "false", "select", "where", "order", "group", "having", "limit", "offset",
                      "by", "search"})
_TOKEN = re.compile(r"""
    (?P<ws>\s+|--[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)
  | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)
  | (?P<sysident>:[@A-Za-z_][A-Za-z0-9_]*|:\*)
  | (?P<ident>[A-Za-z_@][A-Za-z0-9_]*)
  | (?P<qident>`:?@?[-A-Za-z0-9_]+`)
  | (?P<string>'(?:[^']|'')*')
  | (?P<dstring>"(?:[^"\\\n]|\\.)*")
  | (?P<op>::|<=|>=|!=|<>|==|\|\||[=<>(),*+\-/%^])
""", re.VERBOSE)
# Nesting (parentheses, function arguments, NOT, unary minus, ::) deeper than this is refused with a
# 400: the parser and compiler recurse, and SQLite limits expression depth to 1000.
MAX_DEPTH = 48
MAX_QUERY_CHARS = 32_768


def tokenize(text: str) -> list[Token]:
    """Split SoQL text into tokens; an unterminated string or stray character is an error."""
    if len(text) > MAX_QUERY_CHARS:
        raise SoqlError("query.soql.too-long", f"The query is longer than {MAX_QUERY_CHARS} characters")
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            if text[pos] in "'\"":
                raise SoqlError("query.soql.unterminated-string", f"Unterminated string at position {pos}")
            if text.startswith("/*", pos):
                raise SoqlError("query.soql.bad-parse", f"Unterminated comment at position {pos}")
            raise SoqlError("query.soql.bad-parse", f"Could not parse SoQL query: unexpected {text[pos]!r} "
                                                    f"at position {pos}")
        kind = m.lastgroup or ""
        if kind != "ws":
            raw = m.group()
            if kind == "string":
                raw = raw[1:-1].replace("''", "'")
            elif kind == "dstring":
                raw = _unescape(raw[1:-1], pos)
                kind = "string"
            elif kind == "qident":
                raw = raw[1:-1]
                kind = "ident"
            tokens.append(Token(kind, raw, pos))
        pos = m.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


_ESCAPES = {"n": "\n", "t": "\t", "b": "\b", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U(?:0[0-9a-fA-F]{5}|10[0-9a-fA-F]{4})|.)", re.DOTALL)


def _unescape(body: str, pos: int) -> str:
    """A double-quoted SoQL string's escapes, as soql-reference's lexer reads them
    (``\\n \\t \\b \\f \\r \\" \\\\ \\uXXXX \\UXXXXXX``; anything else is an error)."""

    def one(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc in _ESCAPES:
            return _ESCAPES[esc]
        if esc[0] in "uU" and len(esc) > 1:
            return chr(int(esc[1:], 16))
        raise SoqlError("query.soql.bad-parse", f"Unexpected escape \\{esc[0]} in the string at position {pos}")

    return _ESCAPE.sub(one, body)
