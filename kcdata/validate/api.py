"""Public entry points: validate one table, validate inventory datasets, read the last result."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kcdata.errors import InputError
from kcdata.inventory.model import Dataset, Inventory
from kcdata.validate import cache, geocheck
from kcdata.validate.model import INPUT_CODES, InputProblem, TableReport, ValidationRun
from kcdata.validate.schema import Dialect, LoadedSchema, load_schema, missing_descriptions

if TYPE_CHECKING:
    from kcdata.validate.reference import EngineResult

log = logging.getLogger(__name__)
ENGINES = ("auto", "fast", "frictionless")


def validate_table(*, data: Path, schema: Path | Mapping[str, Any], dataset_id: str | None = None,
                   max_errors: int = 1000, engine: str = "auto",
                   on_progress: Callable[[int, int], None] | None = None,
                   dialect: Mapping[str, Any] | None = None, data_sha256: str | None = None) -> TableReport:
    """Validate one data file against a Table Schema, exactly as frictionless would.

    ``max_errors`` limits the errors listed (0 = all), never what is counted. ``engine``: ``auto``
    (the fast engine, frictionless where it cannot promise the same answer), ``fast`` (InputError
    instead of falling back) or ``frictionless``. ``on_progress(rows_done, bytes_total)`` is called
    per batch. ``dialect`` overrides the schema's ``dialect`` (delimiter, quoteChar, encoding).
    ``data_sha256``: the data file's sha256 when the caller has just computed it (it is then not hashed
    again while read). Raises InputError (exit 3) for missing or unreadable files and invalid schemas.
    A ``.geojson`` FeatureCollection is validated as the CSV of its features (kcdata.validate.geocheck).
    """
    if engine not in ENGINES:
        raise InputError(f"unknown engine '{engine}'", hint=f"use one of: {', '.join(ENGINES)}")
    data = Path(data)
    loaded = load_schema(schema)
    if data.exists() and not data.is_file():
        raise InputError(f"{data}: not a regular file (a folder or a device)",
                         hint="point the dataset's `data:` entry (or FILE) at the CSV file itself", code="bad-input")
    if not data.is_file():
        raise InputError(f"{data}: data file not found", hint="check the path, or the dataset's `data:` entry",
                         code="missing-file")
    dia = _dialect(loaded.dialect, dialect or {})
    geo = geocheck.geo_fields(loaded.descriptor)
    if geocheck.is_feature_collection(data):  # checked as the CSV of its features
        with tempfile.TemporaryDirectory(prefix="kcdata-geojson-") as tmp:
            table = Path(tmp) / f"{data.stem}.csv"
            geocheck.features_to_csv(data, loaded.descriptor, table)
            report = _validate_loaded(data=table, loaded=loaded, dia=Dialect(), geo=geo, dataset_id=dataset_id,
                                      max_errors=max_errors, engine=engine, on_progress=on_progress)
        return dataclasses.replace(report, path=data.as_posix(), data_sha256=data_sha256 or _sha(data))
    if geo and not data.name.lower().endswith((".csv", ".tsv", ".txt")):
        raise InputError(f"{data}: geometry fields (geometryType) are checked in CSV and GeoJSON data files only",
                         code="bad-input", hint="convert the file to CSV (WKT or GeoJSON geometry cells) or to a "
                                                "GeoJSON FeatureCollection (.geojson)")
    _refuse_known_formats(data, dia.encoding)
    if data.suffix.lower() == ".tsv" and "delimiter" not in (dialect or {}) and dia.delimiter == ",":
        dia = dataclasses.replace(dia, delimiter="\t")  # what frictionless assumes for .tsv
    return _validate_loaded(data=data, loaded=loaded, dia=dia, geo=geo, dataset_id=dataset_id, max_errors=max_errors,
                            engine=engine, on_progress=on_progress, data_sha256=data_sha256)


def _validate_loaded(*, data: Path, loaded: LoadedSchema, dia: Dialect, geo: tuple[geocheck.GeoField, ...],
                     dataset_id: str | None, max_errors: int, engine: str,
                     on_progress: Callable[[int, int], None] | None, data_sha256: str | None = None) -> TableReport:
    from kcdata.validate.fast import Fallback, validate_fast

    full = loaded
    if geo:  # the engines see geometry fields as strings; geocheck checks their cells for both
        loaded = dataclasses.replace(loaded, descriptor=geocheck.engine_descriptor(loaded.descriptor))
    started = time.perf_counter()
    reason = None
    if engine != "frictionless":
        try:
            result = validate_fast(data=data, schema=loaded, dialect=dia, max_errors=max_errors,
                                   on_progress=on_progress, data_sha256=data_sha256)
            used = "fast"
        except Fallback as exc:
            if engine == "fast":
                raise InputError(f"{data}: the fast engine cannot validate this file: {exc}",
                                 hint="use --engine auto or --engine frictionless") from None
            reason = str(exc)
            log.info("%s: falling back to frictionless: %s", data, reason)
        except (InputError, OSError):
            raise
        except Exception as exc:  # a fast-engine bug must not cost the user an answer: the reference gives it
            if engine == "fast":
                raise InputError(f"{data}: the fast engine cannot validate this file: {type(exc).__name__}: {exc}",
                                 hint="use --engine auto or --engine frictionless") from None
            reason = f"the fast engine failed ({type(exc).__name__}: {exc})"
            log.warning("%s: %s; validating with frictionless", data, reason, exc_info=True)
    if engine == "frictionless" or reason is not None:
        result = _reference(data=data, schema=loaded, dialect=dia, max_errors=max_errors)
        used = "frictionless"
        reason = reason or "requested"
    if geo:
        cells = geocheck.check_cells(geocheck.csv_rows(data, dia), geo)
        result = geocheck.merge(result, cells, full.descriptor, max_errors)
    seconds = time.perf_counter() - started
    return TableReport(id=dataset_id, path=data.as_posix(), valid=not result.counts, rows=result.rows, engine=used,
                       error_count=sum(result.counts.values()), errors=result.errors,
                       error_counts=dict(sorted(result.counts.items())),
                       warnings=missing_descriptions(full.descriptor), engine_reason=reason,
                       data_sha256=result.data_sha256 or data_sha256 or _sha(data), schema_sha256=loaded.sha256,
                       seconds=round(seconds, 3))


def _reference(*, data: Path, schema: LoadedSchema, dialect: Dialect, max_errors: int) -> EngineResult:
    from kcdata.validate.reference import validate_frictionless

    try:
        return validate_frictionless(data=data, schema=schema, dialect=dialect, max_errors=max_errors)
    except (InputError, OSError):
        raise
    except Exception as exc:  # frictionless itself crashed on this input: bad input, not a traceback
        log.debug("frictionless failed on %s", data, exc_info=True)
        raise InputError(f"{data}: frictionless cannot validate this file ({type(exc).__name__}: {exc})",
                         hint="check the file is a CSV table in UTF-8 matching the schema's dialect") from None


def _refuse_known_formats(data: Path, encoding: str | None) -> None:
    """Name an Excel workbook or zip archive renamed .csv and its fix, instead of "binary file".

    (UTF-16 is the engines' business: with a BOM frictionless reads it; without one the error names
    ``--encoding utf-16-le``/``-be``.)"""
    try:
        with data.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return  # the engine reports it
    if data.suffix.lower() not in (".csv", ".tsv", ".txt"):
        return
    if head[:4] == b"PK\x03\x04" or head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InputError(f"{data}: this is an Excel workbook or another zip archive (.xlsx/.zip), not CSV text",
                         code="bad-input",
                         hint="an Excel workbook: open it in Excel and save as CSV UTF-8 (comma delimited); "
                              "a zip archive: rename it .zip, or decompress it and validate the CSV inside")


def _dialect(base: Dialect, override: Mapping[str, Any]) -> Dialect:
    return Dialect(delimiter=override.get("delimiter") or base.delimiter,
                   quote_char=override.get("quoteChar") or base.quote_char,
                   double_quote=base.double_quote,
                   encoding=override.get("encoding") or base.encoding)


def _sha(path: Path, root: Path | None = None) -> str:
    return cache.file_sha256(path, root=root)


def dataset_paths(root: Path, dataset: Dataset) -> tuple[Path, Path]:
    """The data and schema paths of an inventory dataset (relative paths are under the root)."""
    if not dataset.data or not dataset.schema:
        raise InputError(f"dataset '{dataset.id}' has no `data` and `schema` to validate",
                         hint="add both to its inventory entry")
    return root / dataset.data, root / dataset.schema


def validate_datasets(*, inventory: Inventory, ids: Sequence[str] | None = None, max_errors: int = 1000,
                      use_cache: bool = True, engine: str = "auto",
                      on_progress: Callable[[str, int, int], None] | None = None,
                      dialect: Mapping[str, Any] | None = None) -> ValidationRun:
    """Validate inventory datasets (default: every one with data and schema); results are cached.

    Unknown ids raise NotFoundError with a did-you-mean hint. A dataset that cannot be validated
    (missing data or schema file, invalid schema, unreadable data) does not stop the others: its
    report has ``bad_input=True``, ``valid=False``, ``engine=None`` and one :class:`InputProblem` in
    ``errors`` (code ``missing-file``, ``schema-error`` or ``bad-input``); it is not cached.
    ``on_progress(id, rows, bytes_total)``.
    """
    if engine not in ENGINES:
        raise InputError(f"unknown engine '{engine}'", hint=f"use one of: {', '.join(ENGINES)}")
    root = inventory.root
    chosen = [inventory.get(i) for i in ids] if ids else [d for d in inventory.datasets if d.data and d.schema]
    reports = []
    for ds in chosen:
        started = time.perf_counter()
        try:
            reports.append(_validate_dataset(ds, root=root, max_errors=max_errors, use_cache=use_cache,
                                             engine=engine, on_progress=on_progress, dialect=dialect))
        except InputError as exc:
            log.info("%s: not validated: %s", ds.id, exc.message)
            reports.append(_not_validated(ds, root, code=exc.code, message=exc.message, hint=exc.hint,
                                          seconds=time.perf_counter() - started))
        except OSError as exc:  # e.g. a permission denied on the data file
            where = exc.filename or ds.data
            reports.append(_not_validated(ds, root, code="bad-input", message=f"{where}: cannot read: {exc.strerror}",
                                          hint="check the file's permissions", seconds=time.perf_counter() - started))
        except Exception as exc:  # one bad dataset never stops the run
            log.warning("%s: not validated: %s: %s", ds.id, type(exc).__name__, exc)
            reports.append(_not_validated(ds, root, code="bad-input",
                                          message=f"{ds.data}: cannot be validated: {type(exc).__name__}: {exc}",
                                          hint="check that the file is a CSV in the schema's encoding",
                                          seconds=time.perf_counter() - started))
    return ValidationRun(datasets=tuple(reports))


def _validate_dataset(ds: Dataset, *, root: Path, max_errors: int, use_cache: bool, engine: str,
                      on_progress: Callable[[str, int, int], None] | None,
                      dialect: Mapping[str, Any] | None) -> TableReport:
    data, schema = dataset_paths(root, ds)
    sha = None
    if use_cache and data.is_file() and schema.is_file():
        sha = _sha(data, root)  # the cache key; also spares the engine hashing the file a second time
        hit = cache.load(root, data_sha=sha, schema_sha=_schema_sha(schema), max_errors=max_errors)
        if hit is not None and (engine == "auto" or hit.engine == engine):
            # the cache is keyed by content: two datasets may share one entry
            return _relative(dataclasses.replace(hit, id=ds.id, path=data.as_posix()), root)
    progress = (lambda r, b, _id=ds.id: on_progress(_id, r, b)) if on_progress else None
    report = validate_table(data=data, schema=schema, dataset_id=ds.id, max_errors=max_errors, engine=engine,
                            on_progress=progress, dialect=dialect, data_sha256=sha)
    report = _relative(report, root)
    cache.store(root, report, max_errors=max_errors)
    return report


def _not_validated(ds: Dataset, root: Path, *, code: str, message: str, hint: str | None,
                   seconds: float) -> TableReport:
    code = code if code in INPUT_CODES else "bad-input"
    problem = InputProblem(code=code, row=None, field=None, message=message, hint=hint)
    path = (root / ds.data).as_posix() if ds.data else ""
    report = TableReport(id=ds.id, path=path, valid=False, rows=0, engine=None, error_count=1, errors=(problem,),
                         error_counts={code: 1}, seconds=round(seconds, 3), bad_input=True)
    return _relative(report, root) if path else report


def _relative(report: TableReport, root: Path) -> TableReport:
    try:
        rel = Path(report.path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return report
    return dataclasses.replace(report, path=rel)


def _schema_sha(schema: Path) -> str:
    return hashlib.sha256(schema.read_bytes()).hexdigest()


def last_result(*, root: Path, dataset: Dataset) -> TableReport | None:
    """The cached validation of the dataset's CURRENT data and schema files, or None (never validates)."""
    try:
        data, schema = dataset_paths(root, dataset)
    except InputError:
        return None
    if not data.is_file() or not schema.is_file():
        return None
    hit = cache.load(root, data_sha=_sha(data, root), schema_sha=_schema_sha(schema))
    return None if hit is None else _relative(dataclasses.replace(hit, id=dataset.id, path=data.as_posix()), root)
