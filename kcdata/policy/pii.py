"""Screening data files for personal information before release (Sunlight 7).

A column is flagged when enough of its sampled values look like SSNs, phone numbers, e-mail addresses
or personal names, or when its header names a person. The sample is the first ``head_rows`` rows plus
a uniform reservoir sample of the rest, so a big file costs one streaming pass of the csv module and
the pattern tests run on a bounded number of cells. Matched values are never reported, only counts.
"""

from __future__ import annotations

import collections
import csv
import itertools
import math
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class PiiKind(StrEnum):
    SSN = "ssn"
    PHONE = "phone"
    EMAIL = "email"
    PERSON_NAME = "person-name"
    NAME_HEADER = "name-header"


_SSN = re.compile(r"^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$")
_PHONE = re.compile(r"^(?:\+?1[-. ]?)?(?:\(\d{3}\)\s?|\d{3}[-. ])\d{3}[-. ]\d{4}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")

# Common US given names (Social Security Administration top names, both sexes). A value whose first
# (or, for "Last, First", second) word is one of these and that has 2–4 words reads as a person's name.
_FIRST_NAMES_TEXT = """
james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony mark
donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan jacob gary
nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander frank patrick
raymond jack dennis jerry tyler aaron jose adam nathan henry douglas zachary peter kyle ethan walter noah
jeremy christian keith roger terry gerald harold sean austin carl arthur lawrence dylan jesse jordan bryan
billy joe bruce gabriel logan albert willie alan juan wayne elijah randy roy vincent ralph eugene russell
bobby mason philip louis mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy
betty margaret sandra ashley kimberly emily donna michelle carol amanda dorothy melissa deborah stephanie
rebecca sharon laura cynthia kathleen amy angela shirley anna brenda pamela emma nicole helen samantha
katherine christine debra rachel carolyn janet catherine maria heather diane ruth julie olivia joyce virginia
victoria kelly lauren christina joan evelyn judith megan andrea cheryl hannah jacqueline martha gloria teresa
ann sara madison frances kathryn janice jean abigail alice judy sophia grace denise amber doris marilyn
danielle beverly isabella theresa diana natalie brittany charlotte marie kayla alexis lori tanya keisha
latoya jamal darnell tyrone deshawn andre marcus malik jasmine aaliyah imani destiny luis carlos jorge miguel
pedro rosa carmen ana sofia mohamed ahmed fatima aisha wei li chen nguyen linh
"""
FIRST_NAMES = frozenset(_FIRST_NAMES_TEXT.split())

# Words that make "Grace Church" or "Mary Harris Park" a place or an organisation, not a person.
_NOT_PERSON_WORDS = frozenset({
    "park", "parks", "church", "school", "academy", "center", "centre", "library", "hospital", "clinic", "street",
    "st", "ave", "avenue", "blvd", "boulevard", "rd", "road", "dr", "drive", "ln", "lane", "pkwy", "parkway", "way",
    "plaza", "square", "hall", "house", "building", "station", "llc", "inc", "co", "corp", "company", "foundation",
    "association", "trust", "bank", "market", "shop", "store", "cafe", "restaurant", "grill", "bar", "hotel",
    "apartments", "homes", "village", "court", "field", "garden", "gardens", "lake", "creek", "bridge", "elementary",
    "middle", "high", "university", "college", "department", "services", "group", "partners", "associates",
})

_NAME_HEADER_TOKENS = frozenset({"first", "last", "full", "given", "surname", "middle", "firstname", "lastname",
                                 "fullname", "complainant", "resident", "applicant", "employee", "victim",
                                 "suspect", "owner", "tenant", "patient", "person", "caller", "officer"})
_NAME_HEADER_EXCLUDE = frozenset({"street", "business", "dba", "company", "department", "dept", "park", "facility",
                                  "project", "file", "vendor", "agency", "neighborhood", "school", "place",
                                  "program", "team", "site", "building", "station", "route", "field"})


@dataclass(frozen=True, slots=True, kw_only=True)
class PiiColumn:
    """One column that looks personal: which kind, how much of the sample matched (never the values)."""

    column: str
    kind: PiiKind
    matched: int
    sampled: int

    @property
    def share(self) -> float:
        return self.matched / self.sampled if self.sampled else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PiiScreen:
    path: str
    rows_read: int
    rows_sampled: int
    columns: tuple[PiiColumn, ...]


def looks_like(value: str) -> PiiKind | None:
    """The kind of personal value ``value`` looks like, if any."""
    v = value.strip()
    if not v or len(v) > 80:
        return None
    if "@" in v:
        return PiiKind.EMAIL if _EMAIL.match(v) else None
    if v[0].isdigit() or v[0] in "(+":
        if _SSN.match(v):
            return PiiKind.SSN
        if _PHONE.match(v):
            return PiiKind.PHONE
        return None
    return PiiKind.PERSON_NAME if _is_person_name(v) else None


def _is_person_name(v: str) -> bool:
    if any(w.lower() in _NOT_PERSON_WORDS for w in _WORD.findall(v)):
        return False
    if "," in v:  # "Smith, John A."
        last, _, first = v.partition(",")
        words = _WORD.findall(first)
        return bool(words) and len(_WORD.findall(last)) in (1, 2) and words[0].lower() in FIRST_NAMES
    words = _WORD.findall(v)
    return 2 <= len(words) <= 4 and words[0].lower() in FIRST_NAMES and v.replace(".", "").replace(" ", "").replace(
        "-", "").replace("'", "").isalpha()


def header_names_person(header: str) -> bool:
    """True when a column header says it holds a person's name (``owner_name``, ``first_name``)."""
    tokens = [t for t in re.split(r"[^a-z]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", header).lower()) if t]
    if not tokens or _NAME_HEADER_EXCLUDE.intersection(tokens):
        return False
    joined = "".join(tokens)
    if joined in {"firstname", "lastname", "fullname", "surname", "givenname", "middlename"}:
        return True
    return "name" in tokens and bool(_NAME_HEADER_TOKENS.intersection(tokens))


def sample_rows(rows: Iterable[Sequence[str]], *, head: int, reservoir: int, seed: int = 0
                ) -> tuple[list[Sequence[str]], int]:
    """The first ``head`` rows plus a uniform reservoir sample of ``reservoir`` rows from the rest.

    Uses Li's "Algorithm L": it draws random numbers only when a row enters the reservoir and skips the
    rows in between inside ``itertools.islice`` (C code), so sampling costs little more than reading.
    Returns the sample and the number of rows read.
    """
    rng = random.Random(seed)  # noqa: S311 - sampling rows, not cryptography
    it = iter(rows)
    counter = itertools.count(1)
    # zip pulls the row first, so the counter only advances for rows that exist: afterwards
    # next(counter) - 1 is the number of rows read, even for rows skipped inside islice.
    numbered = zip(it, counter, strict=False)  # counter is endless by design
    taken = [row for row, _ in itertools.islice(numbered, head)]
    pool = [row for row, _ in itertools.islice(numbered, reservoir)]
    if len(pool) == reservoir and reservoir > 0:
        w = math.exp(math.log(1.0 - rng.random()) / reservoir)
        while True:
            skip = int(math.log(1.0 - rng.random()) / math.log(1.0 - w)) if w < 1.0 else 0
            item = next(itertools.islice(numbered, skip, None), None)
            if item is None:
                break
            pool[rng.randrange(reservoir)] = item[0]
            w *= math.exp(math.log(1.0 - rng.random()) / reservoir)
    else:
        collections.deque(numbered, maxlen=0)  # reservoir 0 (or exhausted): just count the rest
    return taken + pool, next(counter) - 1


def screen_rows(header: Sequence[str], rows: Iterable[Sequence[str]], *, head_rows: int = 500,
                reservoir: int = 1000, min_share: float = 0.3, seed: int = 0, path: str = "") -> PiiScreen:
    """Screen already-parsed rows (a header and string cells)."""
    sample, total = sample_rows(rows, head=head_rows, reservoir=reservoir, seed=seed)
    found: list[PiiColumn] = []
    for i, name in enumerate(header):
        counts: dict[PiiKind, int] = {}
        nonempty = 0
        for row in sample:
            if i >= len(row) or not row[i].strip():
                continue
            nonempty += 1
            kind = looks_like(row[i])
            if kind is not None:
                counts[kind] = counts.get(kind, 0) + 1
        flagged = False
        for kind, matched in sorted(counts.items(), key=lambda kv: -kv[1]):
            if nonempty and matched / nonempty >= min_share:
                found.append(PiiColumn(column=name, kind=kind, matched=matched, sampled=nonempty))
                flagged = True
                break
        if not flagged and header_names_person(name) and nonempty:
            found.append(PiiColumn(column=name, kind=PiiKind.NAME_HEADER, matched=0, sampled=nonempty))
    return PiiScreen(path=path, rows_read=total, rows_sampled=len(sample), columns=tuple(found))


def _csv_rows(path: Path) -> Iterator[list[str]]:
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        dialect: type[csv.Dialect] = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
        yield from csv.reader(fh, dialect=dialect)


SCREENABLE_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})


def screen_file(path: Path, *, head_rows: int = 500, reservoir: int = 1000, min_share: float = 0.3,
                seed: int = 0) -> PiiScreen:
    """Screen a CSV/TSV file; raises :class:`OSError` if it cannot be read."""
    rows = _csv_rows(Path(path))
    header = next(rows, None)
    if header is None:
        return PiiScreen(path=str(path), rows_read=0, rows_sampled=0, columns=())
    return screen_rows(header, rows, head_rows=head_rows, reservoir=reservoir, min_share=min_share, seed=seed,
                       path=str(path))
