"""The server pauses cyclic GC while requests are answered, and gives it back."""

from __future__ import annotations


def test_gc_pause_restores_the_collector_and_collects_in_long_overlapping_stretches() -> None:
    import gc

    from kcdata.portal.server import _GcPause

    pause = _GcPause()
    assert gc.isenabled()
    with pause:
        assert not gc.isenabled()
        with pause:  # an overlapping request
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    before = gc.get_stats()[2]["collections"]
    pause.__enter__()  # one request that never ends while many others come and go
    try:
        for _ in range(_GcPause.COLLECT_EVERY):
            with pause:
                pass
    finally:
        pause.__exit__()
    assert gc.get_stats()[2]["collections"] > before and gc.isenabled()
