"""SoQL: recursive-descent parser producing an AST (tokens from :mod:`kcdata.portal.soqllex`).

The compiler to SQLite lives in :mod:`kcdata.portal.soqlsql`; this module never sees SQL.
"""

from __future__ import annotations

from kcdata.portal.soqlast import (
    Between,
    Binary,
    Cast,
    Column,
    Expr,
    Func,
    In,
    IsNull,
    Like,
    Literal,
    Neg,
    Not,
    OrderItem,
    Query,
    SelectItem,
    SoqlError,
)
from kcdata.portal.soqllex import KEYWORDS, MAX_DEPTH, Token, tokenize

# ---- parser --------------------------------------------------------------------------------------
_COMPARE = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class Parser:
    """Recursive-descent parser over one clause's tokens."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.distinct = False

    def _deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise SoqlError("query.soql.too-complex", f"The query nests deeper than {MAX_DEPTH} levels")

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
        if self._kw("distinct") and self.tokens[self.i + 1].kind != "op":
            self.i += 1
            self.distinct = True
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
            nulls_first = None
            if self._eat_kw("nulls"):
                if self._eat_kw("first"):
                    nulls_first = True
                elif self._eat_kw("last"):
                    nulls_first = False
                else:
                    self._fail("expected FIRST or LAST after NULLS")
            items.append(OrderItem(expr=expr, descending=desc, nulls_first=nulls_first))
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
        terms = [self._and()]
        while self._eat_kw("or"):
            terms.append(self._and())
        return _balanced("OR", terms)

    def _and(self) -> Expr:
        terms = [self._not()]
        while self._eat_kw("and"):
            terms.append(self._not())
        return _balanced("AND", terms)

    def _not(self) -> Expr:
        if self._eat_kw("not"):
            self._deeper()
            inner = self._not()
            self.depth -= 1
            return Not(inner)
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
        left = self._power()
        while self._op("*", "/", "%"):
            op = self._next().text
            left = Binary(op, left, self._power())
        return left

    def _power(self) -> Expr:
        base = self._unary()
        if self._op("^"):  # right-associative: 2 ^ 3 ^ 2 = 2 ^ 9
            self.i += 1
            self._deeper()
            exponent = self._power()
            self.depth -= 1
            return Binary("^", base, exponent)
        return base

    def _unary(self) -> Expr:
        if self._op("-", "+"):
            sign = self._next().text
            self._deeper()
            inner = self._unary()
            self.depth -= 1
            if sign == "+":
                return inner
            if isinstance(inner, Literal) and inner.kind == "number":
                text = str(inner.value)
                return Literal(text[1:] if text.startswith("-") else "-" + text, "number")
            return Neg(inner)
        return self._cast()

    def _cast(self) -> Expr:
        expr = self._primary()
        while self._op("::"):
            self.i += 1
            tok = self._next()
            if tok.kind != "ident":
                self.i -= 1
                self._fail("expected a type name after ::")
            expr = Cast(expr, tok.text.lower())
        return expr

    def _primary(self) -> Expr:
        self._deeper()
        try:
            return self._primary_inner()
        finally:
            self.depth -= 1

    def _primary_inner(self) -> Expr:
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
                distinct = False
                if self._kw("distinct") and not (self.tokens[self.i + 1].kind == "op"
                                                 and self.tokens[self.i + 1].text in "),"):
                    self.i += 1
                    distinct = True
                args: tuple[Expr, ...] = ()
                if not self._op(")"):
                    args = tuple(self.expr_list())
                self._expect_op(")")
                return Func(low, args, distinct=distinct)
            if low in KEYWORDS:
                self.i -= 1
                self._fail("expected a value")
            return Column(tok.text)
        self.i -= 1
        self._fail("expected a value")
        raise AssertionError("unreachable")


def _balanced(op: str, terms: list[Expr]) -> Expr:
    """``a AND b AND c …`` as a balanced tree (AND and OR are associative, also with nulls), so a
    long chain stays shallow for the compiler's recursion and SQLite's expression depth limit."""
    if len(terms) == 1:
        return terms[0]
    mid = len(terms) // 2
    return Binary(op, _balanced(op, terms[:mid]), _balanced(op, terms[mid:]))


MAX_TREE_DEPTH = 96


def _check_depth(root: object) -> None:
    """Refuse expressions deeper than :data:`MAX_TREE_DEPTH` (left-deep ``1 + 1 + …`` chains)."""
    stack: list[tuple[object, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise SoqlError("query.soql.too-complex", f"The query nests deeper than {MAX_TREE_DEPTH} levels")
        if isinstance(node, list | tuple):
            stack.extend((n, depth) for n in node)
        elif hasattr(node, "__slots__") and not isinstance(node, Literal | Column):
            stack.extend((getattr(node, slot), depth + 1) for slot in node.__slots__)


def _parse(text: str, method: str) -> object:
    parser = Parser(text)
    if parser.tok.kind == "eof":
        parser._fail("expected an expression")
    result = getattr(parser, method)()
    parser.end()
    _check_depth(result)
    if method == "select_list" and parser.distinct:
        return _Distinct(result)
    return result


class _Distinct(list):  # type: ignore[type-arg]
    """A select list that began with DISTINCT."""

    distinct = True


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


MAX_COUNT = 2 ** 63 - 1


def parse_count(text: str, name: str) -> int:
    """``$limit`` / ``$offset``: a non-negative integer (ASCII digits; at most 2^63 - 1)."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 19 or int(value) > MAX_COUNT:
        raise SoqlError("query.soql.bad-parse", f"{name} must be an integer from 0 to {MAX_COUNT}, "
                                                f"got {text[:40]!r}")
    return int(value)


def is_distinct(items: list[SelectItem]) -> bool:
    """Whether a parsed ``$select`` list began with DISTINCT."""
    return bool(getattr(items, "distinct", False))


_CLAUSES = {"select": "select", "where": "where", "order": "order", "group": "group", "having": "having",
            "limit": "limit", "offset": "offset", "search": "search"}


# soql-reference's clause order; LIMIT and OFFSET may come in either order.
_ORDER = {"select": 0, "where": 1, "group": 2, "having": 3, "order": 4, "search": 5, "limit": 6, "offset": 6}


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
    seen: set[str] = set()
    rank = -1
    for word, start, _body in marks:
        if word in seen:
            raise SoqlError("query.soql.bad-parse", f"Could not parse SoQL query: {word.upper()} appears twice "
                                                    f"(position {start})")
        if _ORDER[word] < rank:
            raise SoqlError("query.soql.bad-parse", f"Could not parse SoQL query: {word.upper()} at position {start} "
                                                    "is out of order (SELECT, WHERE, GROUP BY, HAVING, ORDER BY, "
                                                    "SEARCH, LIMIT, OFFSET)")
        seen.add(word)
        rank = _ORDER[word]
    query = Query()
    for n, (word, _start, body_start) in enumerate(marks):
        end = marks[n + 1][1] if n + 1 < len(marks) else len(text)
        body = text[body_start:end]
        if word == "select":
            query.select = parse_select(body)
            query.distinct = is_distinct(query.select)
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
