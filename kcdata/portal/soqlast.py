"""SoQL abstract syntax tree and the error every SoQL problem raises (see :mod:`kcdata.portal.soql`)."""

from __future__ import annotations

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
    distinct: bool = False  # count(distinct x)


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


@dataclass(frozen=True, slots=True)
class Cast:
    expr: Expr
    type: str  # text | number | floating_timestamp | ...


Expr = Column | Literal | Func | Binary | Not | Neg | IsNull | In | Between | Like | Cast


@dataclass(frozen=True, slots=True)
class SelectItem:
    expr: Expr | None  # None for "*" / ":*"
    alias: str | None = None
    star: str | None = None  # "*" or ":*"


@dataclass(frozen=True, slots=True)
class OrderItem:
    expr: Expr
    descending: bool = False
    nulls_first: bool | None = None  # None: Socrata's default (nulls last ascending, first descending)


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
    distinct: bool = False  # $select=distinct ...
