"""The rows half of publish: reading the CSV (``scan``, ``records``), hashing rows (``hashing``,
``valuehash``), sets of keyed row hashes and their diff (``rowset``) and the row manifest kept on the
portal (``manifest``). Nothing here knows about plans or the inventory; the workflow in
:mod:`kcdata.publish` uses it.
"""
