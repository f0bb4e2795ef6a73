"""SoQL: tokenizer and recursive-descent parser producing an AST.

The compiler to SQLite lives in :mod:`kcdata.portal.soqlsql`; this module never sees SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class SoqlError(ValueError):
    """A query problem answered with HTTP 400; ``code`` is Socrata's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ---- AST ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Column:
    name: str


@dataclass(frozen=True, slots=True)
class Literal:
    value: object  # str, Decimal-text (str) for numbers, bool, or None
    kind: str  # "text" | "number" | "boolean" | "null"


@dataclass(frozen=True, slots=True)
class Func:
    name: str
    args: tuple[Expr, ...]
    star: bool = False


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # = != < <= > >= + - * / % || AND OR
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Not:
    expr: Expr


@dataclass(frozen=True, slots=True)
class Neg:
    expr: Expr


@dataclass(frozen=True, slots=True)
class IsNull:
    expr: Expr
    negated: bool


@dataclass(frozen=True, slots=True)
class In:
    expr: Expr
    items: tuple[Expr, ...]
    negated: bool


@dataclass(frozen=True, slots=True)
class Between:
    expr: Expr
    low: Expr
    high: Expr
    negated: bool


@dataclass(frozen=True, slots=True)
class Like:
    expr: Expr
    pattern: Expr
    negated: bool


Expr = Column | Literal | Func | Binary | Not | Neg | IsNull | In | Between | Like


@dataclass(frozen=True, slots=True)
class SelectItem:
    expr: Expr | None  # None for "*" / ":*"
    alias: str | None = None
    star: str | None = None  # "*" or ":*"


@dataclass(frozen=True, slots=True)
class OrderItem:
    expr: Expr
    descending: bool = False


@dataclass(slots=True)
class Query:
    """A parsed SoQL query (the parts a request supplied)."""

    select: list[SelectItem] = field(default_factory=list)
    where: Expr | None = None
    group: list[Expr] = field(default_factory=list)
    having: Expr | None = None
    order: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    search: str | None = None


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
    (?P<ws>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<sysident>:[@A-Za-z_][A-Za-z0-9_]*|:\*)
  | (?P<ident>[A-Za-z_@][A-Za-z0-9_]*)
  | (?P<qident>`[^`]*`)
  | (?P<string>'(?:[^']|'')*')
  | (?P<op><=|>=|!=|<>|==|\|\||[=<>(),*+\-/%])
""", re.VERBOSE)


def tokenize(text: str) -> list[Token]:
    """Split SoQL text into tokens; an unterminated string or stray character is an error."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            if text[pos] == "'":
                raise SoqlError("query.soql.unterminated-string", f"Unterminated string at position {pos}")
            raise SoqlError("query.soql.bad-parse", f"Could not parse SoQL query: unexpected {text[pos]!r} "
                                                    f"at position {pos}")
        kind = m.lastgroup or ""
        if kind != "ws":
            raw = m.group()
            if kind == "string":
                raw = raw[1:-1].replace("''", "'")
            elif kind == "qident":
                raw = raw[1:-1]
                kind = "ident"
            tokens.append(Token(kind, raw, pos))
        pos = m.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


# ---- parser --------------------------------------------------------------------------------------
_COMPARE = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class Parser:
    """Recursive-descent parser over one clause's tokens."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def _next(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def _kw(self, *words: str) -> bool:
        tok = self.tok
        return tok.kind == "ident" and tok.text.lower() in words

    def _eat_kw(self, word: str) -> bool:
        if self._kw(word):
            self.i += 1
            return True
        return False

    def _expect_kw(self, word: str) -> None:
        if not self._eat_kw(word):
            self._fail(f"expected {word.upper()}")

    def _op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def _expect_op(self, op: str) -> None:
        if not self._op(op):
            self._fail(f"expected {op!r}")
        self.i += 1

    def _fail(self, what: str) -> None:
        tok = self.tok
        if tok.kind == "eof":
            raise SoqlError("query.soql.unexpected-eof", f"Could not parse SoQL query {self.text!r}: "
                                                         f"{what} but the query ended")
        raise SoqlError("query.soql.bad-parse", f"Could not parse SoQL query {self.text!r}: {what} at position "
                                                f"{tok.pos}, found {tok.text!r}")

    def end(self) -> None:
        if self.tok.kind != "eof":
            self._fail("expected the end of the clause")

    # -- clauses
    def select_list(self) -> list[SelectItem]:
        items = [self._select_item()]
        while self._op(","):
            self.i += 1
            items.append(self._select_item())
        return items

    def _select_item(self) -> SelectItem:
        if self._op("*"):
            self.i += 1
            return SelectItem(expr=None, star="*")
        if self.tok.kind == "sysident" and self.tok.text == ":*":
            self.i += 1
            return SelectItem(expr=None, star=":*")
        expr = self.expr()
        alias = None
        if self._eat_kw("as"):
            tok = self._next()
            if tok.kind != "ident":
                self.i -= 1
                self._fail("expected an alias name")
            alias = tok.text
        return SelectItem(expr=expr, alias=alias)

    def order_list(self) -> list[OrderItem]:
        items = []
        while True:
            expr = self.expr()
            desc = False
            if self._eat_kw("desc"):
                desc = True
            else:
                self._eat_kw("asc")
            items.append(OrderItem(expr=expr, descending=desc))
            if not self._op(","):
                return items
            self.i += 1

    def expr_list(self) -> list[Expr]:
        items = [self.expr()]
        while self._op(","):
            self.i += 1
            items.append(self.expr())
        return items

    # -- expressions, lowest precedence first
    def expr(self) -> Expr:
        return self._or()

    def _or(self) -> Expr:
        left = self._and()
        while self._eat_kw("or"):
            left = Binary("OR", left, self._and())
        return left

    def _and(self) -> Expr:
        left = self._not()
        while self._eat_kw("and"):
            left = Binary("AND", left, self._not())
        return left

    def _not(self) -> Expr:
        if self._eat_kw("not"):
            return Not(self._not())
        return self._predicate()

    def _predicate(self) -> Expr:
        left = self._additive()
        if self.tok.kind == "op" and self.tok.text in _COMPARE:
            op = _COMPARE[self._next().text]
            return Binary(op, left, self._additive())
        if self._eat_kw("is"):
            negated = self._eat_kw("not")
            self._expect_kw("null")
            return IsNull(left, negated)
        negated = False
        if self._kw("not"):
            following = self.tokens[self.i + 1]
            if following.kind == "ident" and following.text.lower() in ("in", "between", "like"):
                self.i += 1
                negated = True
        if self._eat_kw("in"):
            self._expect_op("(")
            items = tuple(self.expr_list())
            self._expect_op(")")
            return In(left, items, negated)
        if self._eat_kw("between"):
            low = self._additive()
            self._expect_kw("and")
            return Between(left, low, self._additive(), negated)
        if self._eat_kw("like"):
            return Like(left, self._additive(), negated)
        if negated:
            self._fail("expected IN, BETWEEN or LIKE after NOT")
        return left

    def _additive(self) -> Expr:
        left = self._multiplicative()
        while self._op("+", "-", "||"):
            op = self._next().text
            left = Binary(op, left, self._multiplicative())
        return left

    def _multiplicative(self) -> Expr:
        left = self._unary()
        while self._op("*", "/", "%"):
            op = self._next().text
            left = Binary(op, left, self._unary())
        return left

    def _unary(self) -> Expr:
        if self._op("-"):
            self.i += 1
            inner = self._unary()
            if isinstance(inner, Literal) and inner.kind == "number":
                text = str(inner.value)
                return Literal(text[1:] if text.startswith("-") else "-" + text, "number")
            return Neg(inner)
        if self._op("+"):
            self.i += 1
            return self._unary()
        return self._primary()

    def _primary(self) -> Expr:
        tok = self._next()
        if tok.kind == "number":
            return Literal(tok.text, "number")
        if tok.kind == "string":
            return Literal(tok.text, "text")
        if tok.kind == "sysident":
            return Column(tok.text)
        if tok.kind == "op" and tok.text == "(":
            inner = self.expr()
            self._expect_op(")")
            return inner
        if tok.kind == "ident":
            low = tok.text.lower()
            if low in ("true", "false"):
                return Literal(low == "true", "boolean")
            if low == "null":
                return Literal(None, "null")
            if self._op("("):
                self.i += 1
                if self._op("*"):
                    self.i += 1
                    self._expect_op(")")
                    return Func(low, (), star=True)
                args: tuple[Expr, ...] = ()
                if not self._op(")"):
                    args = tuple(self.expr_list())
                self._expect_op(")")
                return Func(low, args)
            if low in KEYWORDS:
                self.i -= 1
                self._fail("expected a value")
            return Column(tok.text)
        self.i -= 1
        self._fail("expected a value")
        raise AssertionError("unreachable")


def _parse(text: str, method: str) -> object:
    parser = Parser(text)
    if parser.tok.kind == "eof":
        parser._fail("expected an expression")
    result = getattr(parser, method)()
    parser.end()
    return result


def parse_expr(text: str) -> Expr:
    """Parse one boolean or value expression (``$where``, ``$having``)."""
    result = _parse(text, "expr")
    return result  # type: ignore[return-value]


def parse_select(text: str) -> list[SelectItem]:
    """Parse a ``$select`` list."""
    return _parse(text, "select_list")  # type: ignore[return-value]


def parse_order(text: str) -> list[OrderItem]:
    """Parse an ``$order`` list."""
    return _parse(text, "order_list")  # type: ignore[return-value]


def parse_group(text: str) -> list[Expr]:
    """Parse a ``$group`` list."""
    return _parse(text, "expr_list")  # type: ignore[return-value]


def parse_count(text: str, name: str) -> int:
    """``$limit`` / ``$offset``: a non-negative integer."""
    value = text.strip()
    if not value.isdigit():
        raise SoqlError("query.soql.bad-parse", f"{name} must be a non-negative integer, got {text!r}")
    return int(value)


_CLAUSES = {"select": "select", "where": "where", "order": "order", "group": "group", "having": "having",
            "limit": "limit", "offset": "offset", "search": "search"}


def parse_full(text: str) -> Query:
    """``$query``: ``SELECT … WHERE … GROUP BY … HAVING … ORDER BY … LIMIT n OFFSET n`` (no FROM)."""
    tokens = tokenize(text)
    marks: list[tuple[str, int, int]] = []  # clause, start of clause text, end of keyword(s)
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.kind == "op" and tok.text == "(":
            depth += 1
        elif tok.kind == "op" and tok.text == ")":
            depth -= 1
        elif depth == 0 and tok.kind == "ident" and tok.text.lower() in _CLAUSES:
            word = tok.text.lower()
            if word in ("order", "group"):
                following = tokens[i + 1]
                if not (following.kind == "ident" and following.text.lower() == "by"):
                    continue
                marks.append((word, tok.pos, following.pos + 2))
            else:
                marks.append((word, tok.pos, tok.pos + len(tok.text)))
    if not marks or marks[0][1] != tokens[0].pos:
        raise SoqlError("query.soql.bad-parse", f"Could not parse SoQL query {text!r}: expected SELECT, WHERE, "
                                                "ORDER BY, GROUP BY, HAVING, LIMIT, OFFSET or SEARCH")
    query = Query()
    for n, (word, _start, body_start) in enumerate(marks):
        end = marks[n + 1][1] if n + 1 < len(marks) else len(text)
        body = text[body_start:end]
        if word == "select":
            query.select = parse_select(body)
        elif word == "where":
            query.where = parse_expr(body)
        elif word == "order":
            query.order = parse_order(body)
        elif word == "group":
            query.group = parse_group(body)
        elif word == "having":
            query.having = parse_expr(body)
        elif word == "limit":
            query.limit = parse_count(body, "LIMIT")
        elif word == "offset":
            query.offset = parse_count(body, "OFFSET")
        else:
            literal = tokenize(body)
            if literal[0].kind != "string":
                raise SoqlError("query.soql.bad-parse", "SEARCH needs a quoted string")
            query.search = literal[0].text
    return query
