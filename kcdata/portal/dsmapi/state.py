"""The DSMAPI's working state: revisions, sources (with their uploaded bytes), input and output
schemas, jobs and configs, held in memory by the portal (a restart forgets open drafts; applied
revisions live on in the portal's store)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from kcdata.portal.http import HttpError

BASE = "/api/publishing/v1"


@dataclass(slots=True)
class Source:
    id: int
    attrs: dict[str, Any]
    chunks: dict[int, bytes] = field(default_factory=dict)
    data: bytes | None = None
    revision: tuple[str, int] | None = None  # (fourfour, revision_seq)


@dataclass(slots=True)
class InputSchema:
    id: int
    source_id: int
    attrs: dict[str, Any]
    rows: list[list[str | None]]  # the parsed upload, one text value (or None) per input column


@dataclass(slots=True)
class DsmapiState:
    """Everything the DSMAPI endpoints remember; one lock serializes them."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    revisions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # fourfour -> by seq
    sources: dict[int, Source] = field(default_factory=dict)
    input_schemas: dict[int, InputSchema] = field(default_factory=dict)
    output_schemas: dict[int, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[int, dict[str, Any]] = field(default_factory=dict)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    _counter: int = 0

    def next_id(self) -> int:
        with self.lock:
            self._counter += 1
            return self._counter


def as_int(value: Any, what: str) -> int:
    """``value`` as a non-negative integer, else a 400."""
    try:
        number = int(str(value).strip())
    except ValueError:
        number = -1
    if number < 0:
        raise HttpError(400, "invalid_parameter", f"{what} must be a non-negative integer, not {value!r}")
    return number


def revision_path(fourfour: str, seq: int) -> str:
    return f"{BASE}/revision/{fourfour}/{seq}"


def source_path(source_id: int) -> str:
    return f"{BASE}/source/{source_id}"


def output_schema_links(source_id: int, isid: str | int, osid: str | int = "{output_schema_id}"
                        ) -> dict[str, Any]:
    base = f"{source_path(source_id)}/schema/{isid}/output/{osid}"
    return {"show": base, "rows": base + "/rows", "schema_errors": base + "/errors",
            "validate_row_id": base + "/validate_row_id/{transform_id}", "build_config": base + "/build_config"}


def input_schema_links(source_id: int, isid: str | int = "{input_schema_id}") -> dict[str, Any]:
    base = f"{source_path(source_id)}/schema/{isid}"
    return {"show": base, "transform": base, "latest_output": base + "/output/latest",
            "output_schema_links": output_schema_links(source_id, isid)}


def source_links(source_id: int) -> dict[str, Any]:
    base = source_path(source_id)
    return {"show": base, "update": base, "add_to_revision": base, "initiate": base + "/initiate",
            "chunk": base + "/chunk/{seq_num}/{byte_offset}", "commit": base + "/commit/{seq_num}/{byte_offset}",
            "show_input_schema": base + "/schema/{input_schema_id}",
            "input_schema_links": input_schema_links(source_id)}


def revision_links(fourfour: str, seq: int) -> dict[str, Any]:
    base = revision_path(fourfour, seq)
    return {"show": base, "update": base, "discard": base, "apply": base + "/apply", "plan": base + "/plan",
            "create_source": base + "/source", "list_sources": base + "/source"}


__all__ = [
    "BASE",
    "DsmapiState",
    "InputSchema",
    "Source",
    "as_int",
    "input_schema_links",
    "output_schema_links",
    "revision_links",
    "revision_path",
    "source_links",
    "source_path",
]
