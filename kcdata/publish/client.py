"""The portal client: our small interface, and the one module in kcdata that imports sodapy.

:class:`PortalClient` is the interface the planner and the applier use; :class:`SodapyClient`
implements it with sodapy 2.2.0 (the SODA Producer API). A Dataset Management API backend can be
added later by implementing the same protocol.

Rules from ``shared/reference/soda-contract.md`` §4 that this module enforces:

* plain HTTP (``session_adapter``) only for a loopback portal, https otherwise;
* a numeric timeout; timeouts, connection errors, 429 (``Retry-After``) and 5xx are retried with
  exponential backoff and jitter (:class:`~kcdata.publish.retry.RetryPolicy`);
* NaN/±inf never reach sodapy's ``json.dumps`` (they become null);
* ``delete(ds, row_id=<falsy>)`` is never called — this client has no row delete at all; rows are
  deleted through upserts of ``{":deleted": true}``;
* upsert reports are read with ``.get(key, 0)``; success is ``Errors == 0``;
* view metadata is updated read-modify-write, sending the whole ``metadata`` object;
* credentials are never part of a message, log record or exception we raise.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlparse

from kcdata.errors import InputError, PortalError
from kcdata.publish.retry import Retryable, RetryPolicy

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
INVENTORY_SECTION = "Inventory"  # custom-field section carrying the kcdata identity
INVENTORY_ID_FIELD = "Inventory ID"
DEPARTMENT_FIELD = "Department"
FETCH_PAGE = 50_000


@dataclass(frozen=True, slots=True, kw_only=True)
class UpsertReport:
    """An upsert/replace report read defensively; ``attempts`` > 1 means it was retried."""

    created: int
    updated: int
    deleted: int
    errors: int
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.errors == 0


class PortalClient(Protocol):
    """What kcdata needs from a portal. All methods raise :class:`PortalError` on failure."""

    domain: str
    write_requests: int

    def get_view(self, portal_id: str) -> dict[str, Any] | None: ...
    def find_by_inventory_id(self, dataset_id: str) -> dict[str, Any] | None: ...
    def create_view(self, *, name: str, columns: Sequence[Mapping[str, Any]], row_identifier: str,
                    fields: Mapping[str, Any],
                    find_existing: Callable[[], dict[str, Any] | None] | None = None) -> dict[str, Any]: ...
    def find_by_custom_field(self, section: str, field: str, value: str) -> dict[str, Any] | None: ...
    def update_metadata(self, portal_id: str, *, fields: Mapping[str, Any],
                        metadata: Mapping[str, Any] | None = None,
                        current: Mapping[str, Any] | None = None) -> dict[str, Any]: ...
    def publish_view(self, portal_id: str) -> None: ...
    def upload_attachment(self, *, filename: str, data: bytes, mime: str) -> str: ...
    def set_permission(self, portal_id: str, *, public: bool) -> None: ...
    def upsert(self, portal_id: str, rows: Sequence[Mapping[str, Any]]) -> UpsertReport: ...
    def replace(self, portal_id: str, rows: Sequence[Mapping[str, Any]]) -> UpsertReport: ...
    def fetch_all_rows(self, portal_id: str, *, select: Sequence[str] | None = None,
                       where: str | None = None) -> Iterator[dict[str, Any]]: ...
    def count_rows(self, portal_id: str) -> int: ...
    def query(self, portal_id: str, *, select: str, where: str | None = None, group: str | None = None,
              order: str | None = None, limit: int | None = None) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


def inventory_id_of(view: Mapping[str, Any]) -> str | None:
    """The kcdata inventory id stored in a view's custom metadata, if any."""
    return _custom_field(view, INVENTORY_SECTION, INVENTORY_ID_FIELD)


def clean_value(value: Any) -> Any:
    """NaN/±inf → None, recursively: sodapy would otherwise send invalid JSON (``NaN``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_value(v) for v in value]
    return value


def connect(*, url: str, username: str | None, password: str | None, app_token: str | None,
            timeout: float = 30, retry: RetryPolicy | None = None) -> PortalClient:
    """A client for the portal at ``url`` (``https://data.kcmo.org`` or ``http://127.0.0.1:8080``).

    Plain http is accepted only for a loopback host. Raises :class:`InputError` for a bad URL or half
    a set of credentials.
    """
    import re

    shown = re.sub(r"//[^/@\s]*@", "//***@", url.strip())  # as given, minus any user:password
    bad = InputError(f"KCDATA_PORTAL_URL '{shown}' is not a portal URL",
                     hint="Set KCDATA_PORTAL_URL to e.g. https://data.kcmo.org (scheme, host, optional port)")
    try:
        parsed = urlparse(url.strip())
        parsed.port  # noqa: B018  (raises ValueError for a port out of range or not a number)
    except ValueError:
        raise bad from None
    if parsed.scheme not in {"http", "https"} or not parsed.netloc or not parsed.hostname \
            or any(c.isspace() for c in parsed.netloc):
        raise bad
    if parsed.scheme == "http" and (parsed.hostname or "") not in LOOPBACK_HOSTS:
        raise InputError(f"plain http is only allowed for a portal on this machine, not {parsed.hostname}",
                         hint="Use an https:// portal URL.")
    if bool(username) != bool(password):
        raise InputError("portal credentials are incomplete: set both KCDATA_PORTAL_USERNAME and "
                         "KCDATA_PORTAL_PASSWORD (or neither)")
    host = parsed.hostname or ""
    domain = f"{host}:{parsed.port}" if parsed.port else host
    return SodapyClient(domain=domain, plain_http=parsed.scheme == "http", username=username,
                        password=password, app_token=app_token, timeout=timeout, retry=retry or RetryPolicy())


class SodapyClient:
    """:class:`PortalClient` over sodapy 2.2.0."""

    def __init__(self, *, domain: str, plain_http: bool, username: str | None, password: str | None,
                 app_token: str | None, timeout: float, retry: RetryPolicy) -> None:
        import requests
        from sodapy import Socrata

        self.domain = domain
        self.write_requests = 0
        self.requests = 0  # every HTTP request tried, reads included (retries count again)
        self.retry = retry
        self._lock = threading.Lock()
        # The whole catalog as last listed, reused by lookups until this client writes anything: a
        # plan of N new datasets lists it once, not N times (a real portal's catalog is megabytes).
        self._catalog: list[Mapping[str, Any]] | None = None
        self._secrets = tuple(s for s in (password, app_token) if s)
        adapter = {"prefix": "http://", "adapter": requests.adapters.HTTPAdapter()} if plain_http else None
        sodapy_log = logging.getLogger()
        # sodapy warns through the root logger when there is no app token; that is not news for us.
        previous = sodapy_log.level
        sodapy_log.setLevel(logging.ERROR)
        try:
            self._soda = Socrata(domain, app_token, username=username, password=password,
                                 session_adapter=adapter, timeout=timeout)
        finally:
            sodapy_log.setLevel(previous)

    # -- plumbing -------------------------------------------------------------------------------
    def _count_write(self) -> None:
        with self._lock:  # uploads run in worker threads
            self.write_requests += 1
            self.requests += 1
            self._catalog = None  # a write may have changed it

    def _count_read(self) -> None:
        with self._lock:
            self.requests += 1

    def _scrub(self, text: str) -> str:
        for s in self._secrets:
            text = text.replace(s, "***")
        return text

    def _classify(self, exc: BaseException) -> Retryable | None:
        import requests

        if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
            status = exc.response.status_code
            if status == 429:
                ra = exc.response.headers.get("Retry-After")
                try:
                    after = float(ra) if ra is not None else None
                except ValueError:
                    after = None
                return Retryable("HTTP 429 (throttled)", retry_after=after)
            if status >= 500:
                return Retryable(f"HTTP {status}")
            return None
        if isinstance(exc, requests.exceptions.Timeout | requests.exceptions.ConnectionError):
            return Retryable(type(exc).__name__)
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return Retryable("connection dropped mid-response")
        return None

    def _call(self, what: str, fn: Any, *, write: bool = False) -> tuple[Any, int]:
        import requests

        def counted() -> Any:
            if write:
                self._count_write()
            else:
                self._count_read()
            return fn()

        try:
            return self.retry.call(counted, what=what, classify=self._classify)
        except requests.exceptions.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            raise PortalError(f"{self.domain}: {what} failed: {self._scrub(str(exc))}",
                              code="portal-http-error", details={"status": status},
                              hint=_hint_for(status)) from None
        except requests.exceptions.RequestException as exc:
            raise PortalError(f"{self.domain}: {what} failed: cannot reach the portal "
                              f"({type(exc).__name__})", code="portal-unreachable",
                              hint="Check KCDATA_PORTAL_URL and the network; the run can be repeated safely."
                              ) from None
        except (ValueError, AttributeError) as exc:  # sodapy on an unexpected body (see contract §1.2)
            raise PortalError(f"{self.domain}: {what}: unexpected answer from the portal "
                              f"({type(exc).__name__}: {self._scrub(str(exc))[:200]})") from None
        except Exception as exc:
            if type(exc) is Exception:  # sodapy's own bare exceptions (unknown response format ...)
                raise PortalError(f"{self.domain}: {what}: {self._scrub(str(exc))[:200]}") from None
            raise

    # -- reads ----------------------------------------------------------------------------------
    def get_view(self, portal_id: str) -> dict[str, Any] | None:
        """The view (``/api/views/{id}.json``), or None when the portal says 404."""
        _check_id(portal_id)
        try:
            view, _ = self._call(f"read view {portal_id}", lambda: self._soda.get_metadata(portal_id))
        except PortalError as exc:
            if exc.details.get("status") == 404:
                return None
            raise
        return view if isinstance(view, dict) else None

    def find_by_inventory_id(self, dataset_id: str) -> dict[str, Any] | None:
        """The view whose custom metadata carries this inventory id (catalog, then the view itself)."""
        return self.find_by_custom_field(INVENTORY_SECTION, INVENTORY_ID_FIELD, dataset_id)

    def fetch_all_rows(self, portal_id: str, *, select: Sequence[str] | None = None,
                       where: str | None = None) -> Iterator[dict[str, Any]]:
        """Every row (ordered by ``:id``), paged with integer limit/offset."""
        offset = 0
        kwargs: dict[str, Any] = {"order": ":id", "limit": FETCH_PAGE}
        if select:
            kwargs["select"] = ",".join(select)
        if where:
            kwargs["where"] = where
        while True:
            page, _ = self._call(f"read rows of {portal_id}",
                                 lambda o=offset: self._soda.get(portal_id, offset=o, **kwargs))
            yield from page
            if len(page) < FETCH_PAGE:
                return
            offset += FETCH_PAGE

    def count_rows(self, portal_id: str) -> int:
        rows, _ = self._call(f"count rows of {portal_id}",
                             lambda: self._soda.get(portal_id, select="count(*) AS n"))
        if not rows:
            return 0
        first = rows[0]
        value = next(iter(first.values()), 0) if isinstance(first, Mapping) else 0
        return int(value or 0)

    def query(self, portal_id: str, *, select: str, where: str | None = None, group: str | None = None,
              order: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """One SoQL query (``$select``, ``$where``, ``$group``, ``$order``, ``$limit``): the rows it returns."""
        _check_id(portal_id)
        params: dict[str, Any] = {"select": select}
        params.update({k: v for k, v in (("where", where), ("group", group), ("order", order), ("limit", limit))
                       if v is not None})
        rows, _ = self._call(f"query rows of {portal_id}", lambda: self._soda.get(portal_id, **params))
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []

    # -- writes ---------------------------------------------------------------------------------
    def create_view(self, *, name: str, columns: Sequence[Mapping[str, Any]], row_identifier: str,
                    fields: Mapping[str, Any], find_existing: Callable[[], dict[str, Any] | None] | None = None
                    ) -> dict[str, Any]:
        """Create an unpublished view with its columns; ``fields`` may include a whole ``metadata``.

        Creating is not idempotent: after a transient failure the request may have been applied
        with its answer lost, so before each retry ``find_existing`` is asked for the view first.
        """
        import requests

        metadata = dict(fields.get("metadata") or {})
        metadata["rowIdentifier"] = row_identifier
        extra = clean_value({k: v for k, v in fields.items() if k != "metadata"})
        attempt = 0
        while True:
            attempt += 1
            self._count_write()
            try:
                view = self._soda.create(name, columns=[dict(c) for c in columns], metadata=metadata, **extra)
                break
            except requests.exceptions.RequestException as exc:
                transient = self._classify(exc)
                if transient is None or attempt >= self.retry.attempts:
                    status = getattr(getattr(exc, "response", None), "status_code", None)
                    raise PortalError(f"{self.domain}: create view '{name}' failed: {self._scrub(str(exc))}",
                                      code="portal-create-failed", details={"status": status},
                                      hint=_hint_for(status)) from None
                wait = self.retry.delay(attempt, transient.retry_after)
                log.warning("create view %r: %s; retry %d/%d in %.2fs", name, transient, attempt,
                            self.retry.attempts - 1, wait)
                self.retry.sleep(wait)
                found = find_existing() if find_existing is not None else None
                if found is not None:
                    return found
        if not isinstance(view, dict) or not view.get("id"):
            raise PortalError(f"{self.domain}: create view '{name}': the portal returned no view id")
        return view

    def find_by_custom_field(self, section: str, field: str, value: str) -> dict[str, Any] | None:
        """The view whose ``metadata.custom_fields[section][field]`` equals ``value``."""
        key = f"{section}_{field}".replace(" ", "-")
        writes_before = self.write_requests
        results, _ = self._call("search the catalog", lambda: self._soda.datasets(q=value))
        candidates = [r for r in results if isinstance(r, Mapping)]
        if not any(_catalog_field(r, key) == value for r in candidates):
            everything = self._catalog
            if everything is None:
                listed, _ = self._call("list the catalog", lambda: self._soda.datasets())
                everything = [r for r in listed if isinstance(r, Mapping)]
                with self._lock:
                    if self.write_requests == writes_before:
                        self._catalog = everything
            candidates += everything
        seen: set[str] = set()
        for r in candidates:
            rid = (r.get("resource") or {}).get("id")
            if not rid or rid in seen:
                continue
            seen.add(rid)
            listed = _catalog_field(r, key)
            if listed is not None and listed != value:
                continue
            if listed is None and _catalog_has_custom(r):
                continue
            view = self.get_view(rid)
            if view is not None and _custom_field(view, section, field) == value:
                return view
        return None

    def update_metadata(self, portal_id: str, *, fields: Mapping[str, Any],
                        metadata: Mapping[str, Any] | None = None,
                        current: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Set top-level view fields; ``metadata`` keys are merged into the portal's current
        ``metadata`` object and the whole object is sent back (a partial one would replace it all).
        ``current``: the view as this client's own last update returned it, saving the read."""
        _check_id(portal_id)
        payload = dict(clean_value(dict(fields)))
        if metadata is not None:
            current = current or self.get_view(portal_id)
            if current is None:
                raise PortalError(f"{self.domain}: view {portal_id} vanished while updating its metadata")
            merged = dict(current.get("metadata") or {})
            for k, v in metadata.items():
                if isinstance(v, Mapping) and isinstance(merged.get(k), Mapping):
                    merged[k] = {**merged[k], **v}
                else:
                    merged[k] = v
            payload["metadata"] = clean_value(merged)
        view, _ = self._call(f"update metadata of {portal_id}",
                             lambda: self._soda.update_metadata(portal_id, payload), write=True)
        return view if isinstance(view, dict) else {}

    def upload_attachment(self, *, filename: str, data: bytes, mime: str) -> str:
        """Store a file to attach to a dataset (``POST /api/assets``); returns its asset id."""
        answer, _ = self._call(f"upload {filename}", lambda: self._soda._perform_request(
            "post", "/api/assets", files={"file": (filename, data, mime)}), write=True)
        asset = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(asset, str) or not asset:
            raise PortalError(f"{self.domain}: upload {filename}: the portal returned no asset id")
        return asset

    def publish_view(self, portal_id: str) -> None:
        _check_id(portal_id)
        self._call(f"publish {portal_id}", lambda: self._soda.publish(portal_id), write=True)

    def set_permission(self, portal_id: str, *, public: bool) -> None:
        _check_id(portal_id)
        self._call(f"set permission of {portal_id}",
                   lambda: self._soda.set_permission(portal_id, "public" if public else "private"), write=True)

    def upsert(self, portal_id: str, rows: Sequence[Mapping[str, Any]]) -> UpsertReport:
        _check_id(portal_id)
        payload = [clean_value(dict(r)) for r in rows] if _needs_cleaning(rows) else list(rows)
        report, attempts = self._call(f"upsert {len(payload)} rows into {portal_id}",
                                      lambda: self._soda.upsert(portal_id, payload), write=True)
        return _report(report, attempts)

    def replace(self, portal_id: str, rows: Sequence[Mapping[str, Any]]) -> UpsertReport:
        _check_id(portal_id)
        payload = [clean_value(dict(r)) for r in rows] if _needs_cleaning(rows) else list(rows)
        report, attempts = self._call(f"replace rows of {portal_id}",
                                      lambda: self._soda.replace(portal_id, payload), write=True)
        return _report(report, attempts)

    def close(self) -> None:
        self._soda.close()

    def __repr__(self) -> str:
        return f"SodapyClient(domain={self.domain!r})"


def _needs_cleaning(rows: Sequence[Mapping[str, Any]]) -> bool:
    return any(isinstance(v, float) and not math.isfinite(v) for r in rows for v in r.values())


def _check_id(portal_id: str) -> None:
    # sodapy splices ids into paths unencoded; a falsy id on delete would drop a whole dataset.
    if not portal_id or not isinstance(portal_id, str) or "/" in portal_id or "?" in portal_id:
        raise InputError(f"invalid portal id {portal_id!r}", hint="A portal id looks like abcd-2345.")


def _catalog_field(result: Mapping[str, Any], key: str) -> str | None:
    cls = result.get("classification") or {}
    for item in cls.get("domain_metadata") or []:
        if isinstance(item, Mapping) and item.get("key") == key:
            return str(item.get("value"))
    return None


def _catalog_has_custom(result: Mapping[str, Any]) -> bool:
    """Whether the catalog lists custom fields at all (then a missing key means "not there")."""
    cls = result.get("classification") or {}
    return bool(cls.get("domain_metadata"))


def _custom_field(view: Mapping[str, Any], section: str, field: str) -> str | None:
    meta = view.get("metadata") or {}
    custom = meta.get("custom_fields") if isinstance(meta, Mapping) else None
    sec = custom.get(section) if isinstance(custom, Mapping) else None
    value = sec.get(field) if isinstance(sec, Mapping) else None
    return str(value) if value else None


def _report(raw: Any, attempts: int) -> UpsertReport:
    if not isinstance(raw, Mapping):
        raise PortalError("the portal answered an upsert without a report")

    def n(key: str) -> int:
        try:
            return int(raw.get(key, 0) or 0)
        except (TypeError, ValueError):
            return 0

    return UpsertReport(created=n("Rows Created"), updated=n("Rows Updated"), deleted=n("Rows Deleted"),
                        errors=n("Errors"), attempts=attempts)


def _hint_for(status: int | None) -> str | None:
    return {
        401: "The portal rejected the credentials: check KCDATA_PORTAL_USERNAME/KCDATA_PORTAL_PASSWORD.",
        403: "Not allowed: set KCDATA_PORTAL_USERNAME and KCDATA_PORTAL_PASSWORD for an account that can publish.",
        404: "The dataset does not exist on this portal.",
    }.get(status or 0)
