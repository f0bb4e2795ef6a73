"""SQLite functions behind SoQL: exact decimal arithmetic and the scalar functions SQLite lacks.

Socrata numbers are arbitrary-precision decimals (PostgreSQL ``numeric`` underneath). The portal
stores them as canonical decimal text and never lets SQLite turn them into floats where that would
change an answer: arithmetic, ``sum``/``avg``/``min``/``max`` and the tie-break of comparisons and
ordering go through :class:`decimal.Decimal` here (see :mod:`kcdata.portal.soqlsql` for how the SQL
uses them: a float comparison first, the exact one only when the floats are equal).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import sqlite3
import unicodedata
import zoneinfo
from decimal import Context, Decimal, InvalidOperation, localcontext
from typing import Any

from kcdata.portal.soqlgeo import in_polygon
from kcdata.portal.types import MAX_NUMBER_DIGITS, ValueProblem, encoder, format_decimal, format_row_id

# Operands are at most ~1000 digits (types.MAX_NUMBER_DIGITS); results are rounded to this many
# significant digits and must stay inside this exponent range, else they are null.
_CONTEXT = Context(prec=4000, Emax=100_000, Emin=-100_000)
_MIN_SIG_DIGITS = 16  # PostgreSQL's NUMERIC_MIN_SIG_DIGITS: division keeps at least this many


def to_decimal(value: Any) -> Decimal | None:
    """A stored or computed SQLite value as a Decimal (None for null or anything non-numeric)."""
    if value is None:
        return None
    try:
        if type(value) is float:
            return Decimal(repr(value)) if math.isfinite(value) else None
        return Decimal(value if type(value) is str else str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


def _text(number: Decimal | None) -> str | None:
    """Canonical text of a result; null when it is not finite or beyond the bound stored numbers have
    (types.MAX_NUMBER_DIGITS on either side of the point), like division by zero."""
    if number is None or not number.is_finite():
        return None
    if number and (number.adjusted() >= MAX_NUMBER_DIGITS or number.adjusted() < -MAX_NUMBER_DIGITS):
        return None
    return format_decimal(number)


def _binary(op: str):  # type: ignore[no-untyped-def]
    def apply(a: Any, b: Any) -> str | None:
        x, y = to_decimal(a), to_decimal(b)
        if x is None or y is None:
            return None
        try:
            with localcontext(_CONTEXT):
                if op == "+":
                    return _text(x + y)
                if op == "-":
                    return _text(x - y)
                if op == "*":
                    return _text(x * y)
                if op == "%":
                    return None if not y else _text(x % y)
                if op == "^":
                    return _text(power(x, y))
                return None if not y else _text(divide(x, y))
        except ArithmeticError:
            return None

    return apply


_POWER_CONTEXT = Context(prec=34, Emax=100_000, Emin=-100_000)


def power(x: Decimal, y: Decimal) -> Decimal:
    """``x ^ y``: exact for integer exponents up to 1000 (rounded to 4000 digits), else 34 significant
    digits (a non-integer power to thousands of digits takes seconds per row)."""
    if y == y.to_integral_value() and abs(y) <= 1000:
        return x ** y
    with localcontext(_POWER_CONTEXT):
        return (x ** y).normalize()


def divide(x: Decimal, y: Decimal) -> Decimal:
    """``x / y`` rounded the way PostgreSQL's numeric division does (``select_div_scale``): at least
    16 significant digits, and never fewer decimals than either operand has."""
    if not x:
        return Decimal(0)
    # Base-10000 "digit" weights and leading digits, as numeric stores them.
    def weight(d: Decimal) -> tuple[int, int]:
        adjusted = d.adjusted()
        w = adjusted // 4
        lead = int(abs(d).scaleb(-4 * w))
        return w, lead

    w1, f1 = weight(x)
    w2, f2 = weight(y)
    qweight = w1 - w2 - (1 if f1 <= f2 else 0)
    scale = max(_MIN_SIG_DIGITS - qweight * 4, -min(x.as_tuple().exponent, 0),  # type: ignore[operator]
                -min(y.as_tuple().exponent, 0), 0)  # type: ignore[operator]
    scale = min(scale, 1000)
    digits = max(x.adjusted() - y.adjusted() + 2, 1) + scale + 2  # the quotient's digits up to that scale
    with localcontext(Context(prec=max(digits, 34), Emax=100_000, Emin=-100_000)):
        return (x / y).quantize(Decimal(1).scaleb(-scale), rounding="ROUND_HALF_UP")


def dcmp(a: Any, b: Any) -> int | None:
    """-1, 0 or 1 comparing two numbers exactly (None when either is null)."""
    x, y = to_decimal(a), to_decimal(b)
    if x is None or y is None:
        return None
    return (x > y) - (x < y)


def neg(a: Any) -> str | None:
    x = to_decimal(a)
    return None if x is None else _text(-x)


def _collate(a: str, b: str) -> int:
    x, y = to_decimal(a), to_decimal(b)
    if x is None or y is None:
        return (a > b) - (a < b)
    return (x > y) - (x < y)


class _Sum:
    def __init__(self) -> None:
        self.total: Decimal | None = None
        self.count = 0

    def step(self, value: Any) -> None:
        number = to_decimal(value)
        if number is not None:
            with localcontext(_CONTEXT):
                self.total = number if self.total is None else self.total + number
            self.count += 1

    def finalize(self) -> str | None:
        return _text(self.total)


class _Avg(_Sum):
    def finalize(self) -> str | None:
        if self.total is None:
            return None
        with localcontext(_CONTEXT):
            return _text(divide(self.total, Decimal(self.count)))


class _Extreme:
    sign = 1

    def __init__(self) -> None:
        self.best: Decimal | None = None
        self.text: str | None = None

    def step(self, value: Any) -> None:
        number = to_decimal(value)
        if number is not None and (self.best is None or (number - self.best) * self.sign > 0):
            self.best, self.text = number, _text(number)

    def finalize(self) -> str | None:
        return self.text


class _Max(_Extreme):
    sign = 1


class _Min(_Extreme):
    sign = -1


def _unaccent(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))


def _ln(value: Any) -> str | None:
    x = to_decimal(value)
    if x is None or x <= 0:
        return None
    with localcontext(Context(prec=34)):
        return _text(x.ln().normalize())


def _round(value: Any, places: Any) -> str | None:
    x = to_decimal(value)
    p = to_decimal(places)
    if x is None or p is None or not -1000 <= p <= 1000:
        return None
    with localcontext(_CONTEXT):
        try:
            return _text(x.quantize(Decimal(1).scaleb(-int(p)), rounding="ROUND_HALF_UP"))
        except InvalidOperation:
            return _text(x)


def _abs(value: Any) -> str | None:
    x = to_decimal(value)
    return None if x is None else _text(abs(x))


def _rounding(mode: str):  # type: ignore[no-untyped-def]
    def apply(value: Any) -> str | None:
        x = to_decimal(value)
        return None if x is None else _text(x.to_integral_value(rounding=mode))

    return apply


def _extreme(sign: int):  # type: ignore[no-untyped-def]
    def pick(*values: Any) -> Any:
        numbers = [(n, v) for v in values if (n := to_decimal(v)) is not None]
        if not numbers:
            return None
        best = max(numbers, key=lambda pair: pair[0] * sign)[0] if sign > 0 else min(numbers)[0]
        return _text(best)

    return pick


def _text_extreme(sign: int):  # type: ignore[no-untyped-def]
    def pick(*values: Any) -> Any:
        present = [v for v in values if v is not None]
        if not present:
            return None
        return max(present) if sign > 0 else min(present)

    return pick


def _local_time(fixed: Any, zone: Any) -> str | None:
    """A fixed timestamp (UTC text ``…Z``) as floating wall-clock text in time zone ``zone``."""
    if not isinstance(fixed, str) or not isinstance(zone, str):
        return None
    try:
        stamp = dt.datetime.fromisoformat(fixed.replace("Z", "+00:00")).astimezone(zoneinfo.ZoneInfo(zone))
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return None
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}"


def _iso_week(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10]).isocalendar()[1]
    except ValueError:
        return None


def _converter(data_type: str):  # type: ignore[no-untyped-def]
    convert = encoder(data_type)

    def apply(value: Any) -> Any:
        if value is None:
            return None
        try:
            return convert(value)
        except ValueProblem:
            return None

    return apply


def _row_version(row_id: Any, updated_at: Any) -> str | None:
    """``:version``: changes whenever the row is written (a digest of its id and last write time)."""
    if row_id is None:
        return None
    digest = hashlib.blake2b(f"{row_id}:{updated_at}".encode(), digest_size=8).digest()
    return "rv-" + format_row_id(int.from_bytes(digest, "big") >> 4)[4:]


def _search(terms: str, text: Any) -> int:
    """``$q``: every (already lower-cased, NUL-separated) term occurs in the concatenated text."""
    if not isinstance(text, str):
        return 0
    low = text.lower()
    return int(all(term in low for term in terms.split("\x00")))


def register_functions(conn: sqlite3.Connection) -> None:
    """Add the portal's functions and the ``py_decimal`` collation to one connection."""
    for name, op in (("py_dadd", "+"), ("py_dsub", "-"), ("py_dmul", "*"), ("py_ddiv", "/"),
                     ("py_dmod", "%"), ("py_dpow", "^")):
        conn.create_function(name, 2, _binary(op), deterministic=True)
    conn.create_function("py_dcmp", 2, dcmp, deterministic=True)
    conn.create_function("py_dneg", 1, neg, deterministic=True)
    conn.create_function("py_dabs", 1, _abs, deterministic=True)
    conn.create_function("py_dround", 2, _round, deterministic=True)
    conn.create_function("py_ln", 1, _ln, deterministic=True)
    conn.create_function("py_unaccent", 1, _unaccent, deterministic=True)
    conn.create_function("py_search", 2, _search, deterministic=True)
    conn.create_function("py_dceil", 1, _rounding("ROUND_CEILING"), deterministic=True)
    conn.create_function("py_dfloor", 1, _rounding("ROUND_FLOOR"), deterministic=True)
    conn.create_function("py_dgreatest", -1, _extreme(1), deterministic=True)
    conn.create_function("py_dleast", -1, _extreme(-1), deterministic=True)
    conn.create_function("py_greatest", -1, _text_extreme(1), deterministic=True)
    conn.create_function("py_least", -1, _text_extreme(-1), deterministic=True)
    conn.create_function("py_local_time", 2, _local_time, deterministic=True)
    conn.create_function("py_iso_week", 1, _iso_week, deterministic=True)
    conn.create_function("py_to_number", 1, _converter("number"), deterministic=True)
    conn.create_function("py_to_floating", 1, _converter("calendar_date"), deterministic=True)
    conn.create_function("py_to_checkbox", 1, _converter("checkbox"), deterministic=True)
    conn.create_function("py_row_version", 2, _row_version, deterministic=True)
    conn.create_function("py_in_polygon", 3, in_polygon, deterministic=True)
    conn.create_aggregate("py_dsum", 1, _Sum)  # type: ignore[arg-type]
    conn.create_aggregate("py_davg", 1, _Avg)  # type: ignore[arg-type]
    conn.create_aggregate("py_dmin", 1, _Min)  # type: ignore[arg-type]
    conn.create_aggregate("py_dmax", 1, _Max)  # type: ignore[arg-type]
    conn.create_collation("py_decimal", _collate)
