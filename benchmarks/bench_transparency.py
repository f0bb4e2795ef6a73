"""PII screening speed: sampled screening vs. the cost of merely reading the file, and vs. screening every cell.

``python -m benchmarks transparency [--rows N] [--repeats R]``. The input CSV is generated deterministically
under ``benchmarks/.data/``. Targets, each a ratio against a reference measured in the same run (medians):

* ``screen_file`` (first 500 rows + a 1 000-row reservoir) / one ``csv.reader`` pass over the file: the
  sampling should cost little more than reading; target <= 1.5.
* ``screen_file`` / checking every cell with the same patterns (no sampling): target <= 0.5.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from kcdata.policy.pii import looks_like, screen_file

DATA = Path(__file__).parent / ".data"
STREETS = ["Main St", "Grand Blvd", "Troost Ave", "Prospect Ave", "Broadway Blvd", "Wornall Rd"]
TYPES = ["Pothole", "Water Main Break", "Graffiti", "Dangerous Building", "Streetlight Out"]


def make_csv(rows: int) -> Path:
    path = DATA / f"pii-{rows}.csv"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    rng = random.Random(42)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "opened", "issue_type", "address", "latitude", "longitude", "council_district",
                    "reporter_email"])
        for i in range(rows):
            email = f"resident{i}@example.org" if rng.random() < 0.6 else ""
            w.writerow([f"C{i:08d}", f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", rng.choice(TYPES),
                        f"{rng.randint(100, 9999)} {rng.choice(STREETS)}", f"{39 + rng.random():.5f}",
                        f"{-94.5 - rng.random():.5f}", str(rng.randint(1, 6)), email])
    tmp.replace(path)
    return path


def read_only(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh))


def every_cell(path: Path) -> int:
    hits = 0
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            for cell in row:
                if cell and looks_like(cell) is not None:
                    hits += 1
    return hits


def median_seconds(func: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks transparency")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    path = make_csv(args.rows)
    screen = screen_file(path)
    assert [c.column for c in screen.columns] == ["reporter_email"], screen.columns
    size_mb = path.stat().st_size / 1e6
    t_read = median_seconds(lambda: read_only(path), args.repeats)
    t_screen = median_seconds(lambda: screen_file(path), args.repeats)
    t_all = median_seconds(lambda: every_cell(path), max(1, args.repeats // 2))
    print(f"input: {args.rows} rows, {size_mb:.1f} MB; medians of {args.repeats} runs")
    print(f"  csv.reader pass (reference)     {t_read * 1000:8.1f} ms")
    print(f"  screen_file (sampled)           {t_screen * 1000:8.1f} ms   "
          f"ratio {t_screen / t_read:5.2f}  (target <= 1.5)")
    print(f"  every cell screened (reference) {t_all * 1000:8.1f} ms")
    print(f"  screen_file / every cell                    ratio {t_screen / t_all:5.2f}  (target <= 0.5)")
    ok = t_screen / t_read <= 1.5 and t_screen / t_all <= 0.5
    print("  result:", "targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1
