"""Row keys with one 64-bit hash per row, and the vectorised diff between two such sets.

A million-row dataset has a million keys; comparing them one by one in Python costs seconds, so
keys live in Arrow arrays and hashes in numpy ``uint64`` arrays, and :func:`diff` is a hash join.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


@dataclass(frozen=True, slots=True, kw_only=True)
class RowHashes:
    """``keys[i]`` (canonical key text) has hash ``hashes[i]``. Keys are unique."""

    keys: pa.Array  # string
    hashes: np.ndarray  # uint64
    key_hash: np.ndarray | None = None  # cached :func:`key_hashes` of ``keys``

    def hashed_keys(self) -> np.ndarray:
        return self.key_hash if self.key_hash is not None else key_hashes(self.keys)

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, int]) -> RowHashes:
        import numpy as np
        import pyarrow as pa

        return cls(keys=pa.array(list(mapping), type=pa.string()),
                   hashes=np.fromiter(mapping.values(), dtype=np.uint64, count=len(mapping)))

    @classmethod
    def empty(cls) -> RowHashes:
        return cls.from_mapping({})

    def key_list(self) -> list[str]:
        return self.keys.to_pylist()  # type: ignore[no-any-return]

    def as_dict(self) -> dict[str, int]:
        return dict(zip(self.keys.to_pylist(), self.hashes.tolist(), strict=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class RowDelta:
    """The rows one apply changes on the portal, as planned (public: the apply reads only this).

    ``upsert_keys`` None means every source row (a new dataset, or a replace); ``upsert_positions``
    are the same rows as ascending positions in the source scan (None: match ``upsert_keys``).
    ``from_manifest``: the portal side was read from a trusted row manifest, so the manifest can be
    extended by a delta part instead of rewritten (:func:`kcdata.publish.rows.manifest.store` decides).
    """

    upsert_keys: frozenset[str] | None = frozenset()
    upsert_positions: Any = field(default=None, compare=False)
    delete_keys: tuple[str, ...] = ()
    refresh_manifest: bool = False  # write the manifest after the rows (rows changed, or it is stale)
    from_manifest: bool = False

    @property
    def every_row(self) -> bool:
        return self.upsert_keys is None

    def upserts(self, source_rows: int) -> int:
        """How many rows the apply upserts out of ``source_rows``."""
        return source_rows if self.upsert_keys is None else len(self.upsert_keys)

    def changed_rows(self, rows: RowHashes) -> RowHashes:
        """Keys and source hashes of the rows this delta upserts (all of ``rows`` for every row)."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.upsert_keys is None:
            return rows
        if self.upsert_positions is not None:
            at = np.asarray(self.upsert_positions, dtype=np.int64)
            return RowHashes(keys=rows.keys.take(pa.array(at)), hashes=rows.hashes[at])
        mask = pc.is_in(rows.keys, value_set=pa.array(list(self.upsert_keys), type=pa.string()))
        return RowHashes(keys=rows.keys.filter(mask), hashes=rows.hashes[mask.to_numpy(zero_copy_only=False)])


@dataclass(frozen=True, slots=True, kw_only=True)
class RowDiff:
    create: list[str]
    update: list[str]
    delete: list[str]
    # Positions in ``local`` of the created and updated keys (ascending), so the upload and the
    # manifest delta can take those rows without matching a million keys against a key set again.
    create_at: np.ndarray | None = field(default=None, compare=False)
    update_at: np.ndarray | None = field(default=None, compare=False)

    def upsert_positions(self) -> np.ndarray | None:
        """Positions in ``local`` of every row to upsert, ascending (None when unknown)."""
        import numpy as np

        if self.create_at is None or self.update_at is None:
            return None
        return np.sort(np.concatenate([self.create_at, self.update_at]).astype(np.int64))


def key_hashes(keys: Any) -> np.ndarray:
    """64-bit hashes of key strings (pandas' fixed-key SipHash: stable across runs)."""
    import pandas as pd

    return pd.util.hash_array(keys.to_numpy(zero_copy_only=False), categorize=False)


def diff(local: RowHashes, remote: RowHashes) -> RowDiff:
    """Keys only in ``local`` (create), in both with different hashes (update), only in ``remote``
    (delete). Order follows ``local`` for create/update and ``remote`` for delete.

    Keys are matched through their 64-bit hashes in a C hash table; every match is then checked
    on the key text itself, and any disagreement (a hash collision) falls back to an exact join.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    none = np.zeros(0, dtype=np.int64)
    if len(remote) == 0:
        return RowDiff(create=local.key_list(), update=[], delete=[], create_at=np.arange(len(local)), update_at=none)
    if len(local) == len(remote) and local.keys.equals(remote.keys):
        changed = np.flatnonzero(local.hashes != remote.hashes)
        return RowDiff(create=[], update=local.keys.take(pa.array(changed)).to_pylist() if len(changed) else [],
                       delete=[], create_at=none, update_at=changed)
    lk, rk = local.hashed_keys(), remote.hashed_keys()
    index = pd.Index(rk)
    if not index.is_unique:
        return _join_diff(local, remote)
    ri = index.get_indexer(lk)
    matched = ri >= 0
    li_m, ri_m = np.flatnonzero(matched), ri[matched]
    if len(li_m) and not pc.all(pc.equal(local.keys.take(pa.array(li_m)), remote.keys.take(pa.array(ri_m)))).as_py():
        return _join_diff(local, remote)
    creates = np.flatnonzero(~matched)
    updates = li_m[local.hashes[li_m] != remote.hashes[ri_m]]
    gone = np.ones(len(remote), dtype=bool)
    gone[ri_m] = False
    deletes = np.flatnonzero(gone)

    def keys_at(arr: Any, idx: np.ndarray) -> list[str]:
        return arr.take(pa.array(idx)).to_pylist() if len(idx) else []  # type: ignore[no-any-return]

    return RowDiff(create=keys_at(local.keys, creates), update=keys_at(local.keys, updates),
                   delete=keys_at(remote.keys, deletes), create_at=creates, update_at=updates)


def _join_diff(local: RowHashes, remote: RowHashes) -> RowDiff:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    lt = pa.table({"k": local.keys, "li": pa.array(np.arange(len(local), dtype=np.int64))})
    rt = pa.table({"k": remote.keys, "ri": pa.array(np.arange(len(remote), dtype=np.int64))})
    j = lt.join(rt, "k", join_type="full outer")
    li, ri = j.column("li"), j.column("ri")
    only_local = pc.is_null(ri)
    only_remote = pc.is_null(li)
    both = pc.invert(pc.or_(only_local, only_remote))
    creates, create_at = _sorted_keys(j, only_local, "li")
    deletes, _ = _sorted_keys(j, only_remote, "ri")
    jb = j.filter(both)
    lidx = jb.column("li").to_numpy()
    ridx = jb.column("ri").to_numpy()
    changed = local.hashes[lidx] != remote.hashes[ridx]
    upd_idx = np.sort(lidx[changed])
    updates = local.keys.take(pa.array(upd_idx)).to_pylist() if len(upd_idx) else []
    return RowDiff(create=creates, update=updates, delete=deletes, create_at=create_at, update_at=upd_idx)


def _sorted_keys(table: Any, mask: Any, order_col: str) -> tuple[list[str], np.ndarray]:
    """The keys selected by ``mask`` in the order of ``order_col``, and those positions."""
    import numpy as np

    sub = table.filter(mask)
    if sub.num_rows == 0:
        return [], np.zeros(0, dtype=np.int64)
    at = sub.column(order_col).to_numpy()
    order = np.argsort(at, kind="stable")
    keys: list[str] = sub.column("k").take(order).to_pylist()
    return keys, at[order]
