"""The publish plan's CSV scan (``kcdata.publish.rows.scan.scan``) on 1,000,000 rows, two ways, in the
same run: records located and hashed in place (what publish does) against the reference of
parsing every cell with Arrow and hashing the joined cells (what it did before, and still does
for files whose records cannot be located safely).

Usage: ``python -m benchmarks scan [--rows N] [--repeats R]``. Two files: the publish benchmark's
(no quotes, CRLF line ends) and the same rows with every value quoted. Medians of the repeats;
peak RSS of a fresh process doing one scan. There is no issue target for the scan alone: it is
most of a 1% re-publish's plan (see ``python -m benchmarks publish``).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import bench_publish

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

CHILD = r"""
import json, sys
from pathlib import Path
from kcdata.publish.rows.scan import scan
from kcdata.publish.typemap import table_mapping
fields = json.loads(sys.argv[3])
m = table_mapping({"fields": fields, "primaryKey": ["id"]}, row_identifier="id", where="bench")
scan(Path(sys.argv[1]), m, locate_records=sys.argv[2] == "records")
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the (large) parent process.
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def quoted_copy(base: Path) -> Path:
    path = base.with_name(base.stem + "-quoted.csv")
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with open(base, newline="", encoding="utf-8") as src, open(tmp, "w", newline="", encoding="utf-8") as out:
            w = csv.writer(out, quoting=csv.QUOTE_ALL)
            for row in csv.reader(src):
                w.writerow(row)
        tmp.replace(path)
    return path


def peak_rss_mb(path: Path, how: str) -> float:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), how, json.dumps(bench_publish.FIELDS)],
                         capture_output=True, text=True, check=True, cwd=REPO)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks scan")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from kcdata.publish.rows.scan import scan
    from kcdata.publish.typemap import table_mapping

    mapping = table_mapping({"fields": bench_publish.FIELDS, "primaryKey": ["id"]}, row_identifier="id",
                            where="bench")
    base = bench_publish.generate(args.rows)
    print(f"scan benchmark: {args.rows:,} rows, medians of {args.repeats}; peak RSS of one scan in a fresh process")
    print(f"  {'file':28} {'records (publish)':>20} {'cells (reference)':>20} {'speed-up':>9}")
    for label, path in (("no quotes, CRLF", base), ("every value quoted", quoted_copy(base))):
        timings: dict[str, list[float]] = {"records": [], "cells": []}
        results: dict[str, Any] = {}
        for _ in range(args.repeats):  # interleaved, so both see the same machine
            for how in ("records", "cells"):
                t0 = time.perf_counter()
                results[how] = scan(path, mapping, locate_records=how == "records")
                timings[how].append(time.perf_counter() - t0)
        assert results["records"].spans is not None and results["cells"].spans is None
        assert results["records"].rows.key_list()[:5] == results["cells"].rows.key_list()[:5]
        rec, ref = (statistics.median(timings[h]) for h in ("records", "cells"))
        rss = {h: peak_rss_mb(path, h) for h in ("records", "cells")}
        print(f"  {label:28} {rec * 1000:9.0f} ms {rss['records']:5.0f} MB {ref * 1000:9.0f} ms "
              f"{rss['cells']:5.0f} MB {ref / rec:8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
