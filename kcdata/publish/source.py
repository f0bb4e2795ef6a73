"""Reading a dataset's CSV: row keys and row hashes for the plan, encoded rows for the upload.

Two hashes exist, for two ways of knowing what the portal holds:

* the *source hash* of a row is a digest of its CSV cells as written — cheap, and what the manifest
  kept on the portal records; it is only comparable under the same column mapping (the manifest
  carries :meth:`TableMapping.fingerprint` and is ignored when that differs);
* the *value hash* is a digest of the row's canonical portal values (:func:`typemap.canonical`), so
  it can be computed both from our CSV and from rows read back from the portal.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kcdata.errors import InputError
from kcdata.publish.typemap import Column, EncodeError, TableMapping, canonical, encoder

HASH_BYTES = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceScan:
    """Keys (canonical key text) → source hash of every row of a CSV, in file order."""

    path: Path
    hashes: dict[str, str]
    duplicates: tuple[str, ...]  # keys seen more than once (first few)
    empty_keys: int  # rows whose row identifier is empty

    @property
    def row_count(self) -> int:
        return len(self.hashes)


def _open(path: Path) -> io.TextIOWrapper:
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the data file ({exc.strerror})",
                         hint="Check the dataset's `data` path in the inventory.") from exc


def _header_index(header: Sequence[str], mapping: TableMapping, path: Path) -> list[int]:
    index = {name: i for i, name in enumerate(header)}
    out = []
    for col in mapping.columns:
        if col.source not in index:
            raise InputError(f"{path}:1: column '{col.source}' of the schema is missing from the CSV header",
                             hint="Validate the dataset (`kcdata validate`) and fix the header or schema.")
        out.append(index[col.source])
    return out


def _key_encoder(mapping: TableMapping) -> tuple[int, Callable[[str], Any], Column]:
    pos = next(i for i, c in enumerate(mapping.columns) if c.field_name == mapping.row_identifier)
    col = mapping.columns[pos]
    return pos, encoder(col), col


def key_text(col: Column, value: Any) -> str:
    """A row-identifier value as the text both sides (CSV and portal) agree on."""
    c = canonical(col.data_type, value)
    return c if isinstance(c, str) else json.dumps(c)


def scan(path: Path, mapping: TableMapping) -> SourceScan:
    """Read the CSV once: every row's key and source hash. Raises InputError on unreadable files."""
    blake = hashlib.blake2b
    with _open(path) as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(f"{path}: the data file is empty", hint="Add a header row and data.") from None
        positions = _header_index(header, mapping, path)
        kpos, kenc, kcol = _key_encoder(mapping)
        key_at = positions[kpos]
        hashes: dict[str, str] = {}
        dups: list[str] = []
        empty = 0
        identity = positions == list(range(len(header)))
        for lineno, cells in enumerate(reader, start=2):
            if not cells:
                continue
            raw = cells[key_at] if key_at < len(cells) else ""
            try:
                kv = kenc(raw)
            except EncodeError as exc:
                raise InputError(f"{path}:{lineno}: row identifier {kcol.source}: {exc}") from None
            if kv is None:
                empty += 1
                continue
            key = key_text(kcol, kv)
            picked = cells if identity else [cells[p] if p < len(cells) else "" for p in positions]
            digest = blake("\x1f".join(picked).encode(), digest_size=HASH_BYTES).hexdigest()
            if key in hashes and len(dups) < 20:
                dups.append(key)
            hashes[key] = digest
    return SourceScan(path=path, hashes=hashes, duplicates=tuple(dups), empty_keys=empty)


def iter_encoded(path: Path, mapping: TableMapping, *, keys: frozenset[str] | None = None
                 ) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(key, row)`` with the row as portal JSON values; nulls are omitted, except that
    an update must clear a cell, so every column is present (None for null)."""
    encoders = [encoder(c) for c in mapping.columns]
    names = [c.field_name for c in mapping.columns]
    kpos, _kenc, kcol = _key_encoder(mapping)
    with _open(path) as fh:
        reader = csv.reader(fh)
        header = next(reader)
        positions = _header_index(header, mapping, path)
        width = len(positions)
        for lineno, cells in enumerate(reader, start=2):
            if not cells:
                continue
            row: dict[str, Any] = {}
            try:
                for i in range(width):
                    p = positions[i]
                    row[names[i]] = encoders[i](cells[p] if p < len(cells) else "")
            except EncodeError as exc:
                raise InputError(f"{path}:{lineno}: column {mapping.columns[i].source}: {exc}",
                                 hint="Run `kcdata validate` and fix the data.") from None
            kv = row[names[kpos]]
            if kv is None:
                continue
            key = key_text(kcol, kv)
            if keys is not None and key not in keys:
                continue
            yield key, row


def value_hash(mapping: TableMapping, row: Mapping[str, Any], columns: Sequence[Column] | None = None) -> str:
    """Digest of a row's canonical values over ``columns`` (default: all mapped columns)."""
    cols = columns if columns is not None else mapping.columns
    values = [canonical(c.data_type, row.get(c.field_name)) for c in cols]
    return hashlib.blake2b(json.dumps(values, default=str).encode(), digest_size=HASH_BYTES).hexdigest()
