"""Benchmark ``kcdata validate``'s fast engine against frictionless and a bare pyarrow CSV read.

Generates (deterministically, under benchmarks/.data/) a 311-style CSV modelled on Kansas City's
``d4px-6rwg`` with about 0.1% injected errors of every kind, then measures in the same run:
speed ratio vs frictionless (target >= 25x) with identical error counts by code, peak RSS of each
engine in its own subprocess (target < 500 MB, and a 5M-row run within +20% of the 1M peak), and
the ratio to a bare ``pyarrow.csv`` read (target within 4x).

    python -m benchmarks validate                 # full: 1M rows (+ 5M memory run)
    python -m benchmarks validate --rows 20000    # quick
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
REPO = HERE.parent

STATUSES = ["active", "assigned", "Assigned", "canceled", "closed", "Closed", "new", "received", "resolved",
            "referred"]
SOURCES = ["PHONE", "WEB", "EMAIL", "MOBILE", "WALK-IN"]
ISSUES = ["Graffiti", "A Pothole", "Animal Services", "Dangerous Buildings", "Homeless Camp", "Trash", "Streetlight"]
SUBS = ["Removal", "Repair", "Inspection", "Pickup", "Complaint", "Other"]
GROUPS = ["Public Works", "Neighborhoods", "Water", "Parks", "Health"]
CATEGORIES = ["Streets", "Property", "Animals", "Water", "Other"]
STREETS = ["Main St", "Troost Ave", "Prospect Ave", "Broadway Blvd", "Independence Ave", "Wornall Rd"]

SCHEMA = {
    "fields": [
        {"name": "reported_issue", "type": "string", "description": "Unique case id",
         "constraints": {"required": True, "unique": True, "pattern": "KC[0-9]{8}"}},
        {"name": "workorder_", "type": "string", "description": "Work order number"},
        {"name": "current_status", "type": "string", "description": "Case status",
         "constraints": {"required": True, "enum": STATUSES}},
        {"name": "open_date_time", "type": "datetime", "description": "When the case was opened",
         "constraints": {"required": True}},
        {"name": "resolved_date", "type": "datetime", "description": "When the case was resolved"},
        {"name": "days_to_close", "type": "number", "description": "Days from open to close",
         "constraints": {"minimum": 0}},
        {"name": "report_source", "type": "string", "description": "Channel", "constraints": {"enum": SOURCES}},
        {"name": "issue_type", "type": "string", "description": "Issue type", "constraints": {"maxLength": 40}},
        {"name": "issue_sub_type", "type": "string", "description": "Issue sub-type"},
        {"name": "department_work_group", "type": "string", "description": "Responsible work group"},
        {"name": "incident_address", "type": "string", "description": "Address"},
        {"name": "council_district", "type": "integer", "description": "Council district",
         "constraints": {"minimum": 1, "maximum": 6}},
        {"name": "source_category", "type": "string", "description": "Category"},
        {"name": "latitude", "type": "number", "description": "Latitude",
         "constraints": {"minimum": 38.8, "maximum": 39.4}},
        {"name": "longitude", "type": "number", "description": "Longitude",
         "constraints": {"minimum": -94.8, "maximum": -94.3}},
    ],
    "primaryKey": ["reported_issue"],
}


def generate(rows: int) -> tuple[Path, Path]:
    """The CSV and its schema; regenerated only when missing (same seed, same bytes)."""
    DATA.mkdir(parents=True, exist_ok=True)
    csv_path = DATA / f"kc311-{rows}.csv"
    schema_path = DATA / "kc311.schema.json"
    schema_path.write_text(json.dumps(SCHEMA, indent=1))
    if csv_path.is_file():
        return csv_path, schema_path
    rnd = random.Random(311)
    tmp = csv_path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(f["name"] for f in SCHEMA["fields"]) + "\n")  # type: ignore[index]
        for i in range(rows):
            day = 1 + i % 28
            hour = i % 24
            cells = [
                f"KC{20000000 + i:08d}", f"WO{rnd.randrange(10**7):07d}", rnd.choice(STATUSES),
                f"2024-{1 + i % 12:02d}-{day:02d}T{hour:02d}:{i % 60:02d}:{(i * 7) % 60:02d}",
                f"2024-{1 + i % 12:02d}-{min(day + 2, 28):02d}T{hour:02d}:30:00" if i % 5 else "",
                f"{rnd.random() * 60:.2f}", rnd.choice(SOURCES), rnd.choice(ISSUES), rnd.choice(SUBS),
                rnd.choice(GROUPS), f"\"{rnd.randrange(1, 9999)} {rnd.choice(STREETS)}, Kansas City, MO\"",
                str(rnd.randrange(1, 7)), rnd.choice(CATEGORIES), f"{38.9 + rnd.random() * 0.4:.6f}",
                f"{-94.7 + rnd.random() * 0.3:.6f}",
            ]
            if rnd.random() < 0.001:  # ~0.1% injected errors, one kind each
                kind = rnd.randrange(12)
                if kind == 0:
                    cells[3] = "not a date"  # type-error datetime
                elif kind == 1:
                    cells[5] = "-3"  # minimum
                elif kind == 2:
                    cells[2] = "unknown"  # enum
                elif kind == 3:
                    cells[0] = f"KC{20000000 + max(0, i - 5):08d}"  # unique + primary key
                elif kind == 4:
                    cells[11] = "9"  # maximum
                elif kind == 5:
                    cells[13] = "north"  # type-error number
                elif kind == 6:
                    cells[0] = "case-x"  # pattern
                elif kind == 7:
                    cells = cells[:10]  # missing cells
                elif kind == 8:
                    cells = [*cells, "surplus"]  # extra cell
                elif kind == 9:
                    cells = [""] * 15  # blank row (+ primary key all None)
                elif kind == 10:
                    cells[2] = ""  # required
                else:
                    cells[11] = "2_000"  # frictionless accepts this integer; max violated
            fh.write(",".join(cells) + "\n")
    tmp.replace(csv_path)
    return csv_path, schema_path


CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, data, schema = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
import pyarrow.csv, pyarrow.compute, pandas, frictionless  # imports are not what is measured
import kcdata.validate.fast, kcdata.validate.reference
def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime
t, c = time.perf_counter(), cpu()
if mode == "pyarrow":
    import pyarrow.csv as pc
    # the parsing floor; ragged rows must be skipped or pyarrow refuses the file
    rows = pc.read_csv(str(data), parse_options=pc.ParseOptions(invalid_row_handler=lambda r: "skip")).num_rows
    counts = {}
elif mode == "fast":
    from kcdata.validate import validate_table
    r = validate_table(data=data, schema=schema, engine="fast", max_errors=1000)
    rows, counts = r.rows, dict(r.error_counts)
else:
    from kcdata.validate.reference import validate_frictionless
    from kcdata.validate.schema import load_schema
    s = load_schema(schema)
    r = validate_frictionless(data=data, schema=s, dialect=s.dialect, max_errors=1000)
    rows, counts = r.rows, r.counts
secs, cpu_secs = time.perf_counter() - t, cpu() - c
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec, so a child of a large parent
# (`python -m benchmarks` runs every benchmark in one process) would report the parent's peak.
hwm_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": secs, "cpu": cpu_secs, "rows": rows, "counts": counts, "max_rss_mb": hwm_kb / 1024}))
"""


def run_child(mode: str, data: Path, schema: Path) -> dict[str, object]:
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(data), str(schema)], capture_output=True, text=True,
                         env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


STARTUP = r"""
import json, sys, time
t = time.perf_counter()
from kcdata.validate import validate_table
imported = time.perf_counter() - t
from pathlib import Path
d = Path(sys.argv[1])
(d / "tiny.csv").write_text("id,name\n1,a\n")
(d / "tiny.schema.json").write_text('{"fields": [{"name": "id", "type": "integer"}, {"name": "name"}]}')
validate_table(data=d / "tiny.csv", schema=d / "tiny.schema.json", engine="fast")
print(json.dumps({"import": imported, "first": time.perf_counter() - t}))
"""


def startup() -> tuple[float, float]:
    """Median seconds to import the validate stage, and to import it and validate a 1-row file (cold)."""
    import tempfile

    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(3):
            out = subprocess.run([sys.executable, "-c", STARTUP, tmp], capture_output=True, text=True, env=env,
                                 check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return statistics.median(r["import"] for r in runs), statistics.median(r["first"] for r in runs)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks validate")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="fast-engine and pyarrow runs (medians; at least 3)")
    parser.add_argument("--ref-repeats", type=int, default=1, help="frictionless runs (median; each takes ~30 s)")
    parser.add_argument("--big-rows", type=int, default=None, help="rows of the memory-growth run (default 5x)")
    parser.add_argument("--skip-frictionless", action="store_true")
    args = parser.parse_args(argv)
    if args.repeats < 3:
        parser.error("--repeats must be at least 3 (the ratios are medians)")
    big_rows = args.rows * 5 if args.big_rows is None else args.big_rows

    t = time.perf_counter()
    data, schema = generate(args.rows)
    print(f"data: {data} ({data.stat().st_size / 1e6:.0f} MB, {args.rows:,} rows; ready in "
          f"{time.perf_counter() - t:.1f}s)", flush=True)
    fast = [run_child("fast", data, schema) for _ in range(args.repeats)]
    bare = [run_child("pyarrow", data, schema) for _ in range(args.repeats)]

    def med(runs: list[dict[str, object]], key: str) -> float:
        return statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]

    fast_s, fast_cpu, bare_s, bare_cpu = med(fast, "seconds"), med(fast, "cpu"), med(bare, "seconds"), med(bare, "cpu")
    peak = med(fast, "max_rss_mb")
    print(f"fast engine: median {fast_s:.2f}s wall / {fast_cpu:.2f}s CPU over {len(fast)} runs "
          f"(wall {[round(float(r['seconds']), 2) for r in fast]}, "  # type: ignore[arg-type]
          f"CPU {[round(float(r['cpu']), 2) for r in fast]}), peak RSS {peak:.0f} MB "  # type: ignore[arg-type]
          f"(target < 500 MB)")
    print(f"bare pyarrow.csv read: median {bare_s:.2f}s wall / {bare_cpu:.2f}s CPU; fast / bare = "
          f"{fast_s / bare_s:.2f}x wall, {fast_cpu / bare_cpu:.2f}x CPU (target <= 4x)")
    imported, first = startup()
    print(f"validate stage cold start: import {imported:.2f}s; import + validating a 1-row file {first:.2f}s "
          "(frictionless, pyarrow and numpy loaded on first use; medians of 3)")
    ok = peak < 500 and fast_s / bare_s <= 4
    if not args.skip_frictionless:
        refs = [run_child("frictionless", data, schema) for _ in range(max(1, args.ref_repeats))]
        ref = refs[0]
        ref_s, ref_cpu = med(refs, "seconds"), med(refs, "cpu")
        same = all(r["counts"] == fast[0]["counts"] and r["rows"] == fast[0]["rows"] for r in refs)
        print(f"frictionless: {ref_s:.2f}s wall / {ref_cpu:.2f}s CPU "
              f"({'median of ' + str(len(refs)) if len(refs) > 1 else 'once'}), "
              f"peak RSS {float(ref['max_rss_mb']):.0f} MB")  # type: ignore[arg-type]
        wall_ratio, cpu_ratio = ref_s / fast_s, ref_cpu / fast_cpu
        print(f"speed ratio frictionless / fast = {wall_ratio:.1f}x wall, {cpu_ratio:.1f}x CPU (target >= 25x: "
              f"wall {'met' if wall_ratio >= 25 else 'NOT met'}, CPU {'met' if cpu_ratio >= 25 else 'NOT met'}; "
              f"the CPU ratio is the steadier figure on a shared machine)")
        print(f"error counts by code (fast): {dict(sorted(fast[0]['counts'].items()))}")  # type: ignore[attr-defined]
        print(f"error counts by code (frictionless): {dict(sorted(ref['counts'].items()))}")  # type: ignore[attr-defined]
        print(f"identical error counts and rows: {same}")
        assert same, "error counts differ between the fast engine and frictionless"
        ok = ok and ref_s / fast_s >= 25
    if big_rows:
        big, _ = generate(big_rows)
        runs = [run_child("fast", big, schema) for _ in range(max(1, args.repeats // 3))]
        big_peak = statistics.median(float(r["max_rss_mb"]) for r in runs)  # type: ignore[arg-type]
        big_s = statistics.median(float(r["seconds"]) for r in runs)  # type: ignore[arg-type]
        print(f"{big_rows:,} rows: {big_s:.2f}s, peak RSS {big_peak:.0f} MB = {big_peak / peak:.2f}x the "
              f"{args.rows:,}-row peak (target <= 1.20x)")
        ok = ok and big_peak <= 1.2 * peak
    print("all targets met" if ok else "some targets NOT met (shared CPU: see the figures)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
