"""Scoring speed: ranking a large inventory must cost little next to loading it.

Reference: ``load_inventory`` of the same generated inventory (YAML parse with positions).
Issue 5 sets no performance target, so this prints ratios for the record (medians over repeats):
  - ``score_inventory`` (exact arithmetic, gates, explanations' breakdown) against the load
  - ``build_queue`` + ``build_agenda`` (pure, from the ranking) against the load
A ratio creeping above ~1 (ranking costs more than reading the YAML) is worth a look.
Usage: python -m benchmarks score [--datasets N] [--repeats R]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from pathlib import Path

import yaml

DATA = Path(__file__).parent / ".data" / "score"


def generate(root: Path, n: int) -> None:
    marker = root / f".generated-{n}"
    if marker.exists():
        return
    rnd = random.Random(20261127)
    (root / "inventory").mkdir(parents=True, exist_ok=True)
    for old in (root / "inventory").glob("*.yaml"):
        old.unlink()
    departments = [f"dept-{i:02d}" for i in range(20)]
    per: dict[str, list[dict[str, object]]] = {d: [] for d in departments}
    goals = ["public-safety", "infrastructure-accessibility", "finance-governance", "housing-healthy-communities"]
    for i in range(n):
        status = rnd.choice(["inventoried", "proposed", "in_review", "approved", "published", "withheld"])
        entry: dict[str, object] = {
            "id": f"dataset-{i:06d}", "title": f"Dataset {i}", "description": "Generated for the benchmark.",
            "contact": {"name": "Liaison"}, "access_level": rnd.choice(["public"] * 8 + ["non-public"]),
            "classification": rnd.choice(["public"] * 6 + ["sensitive", "protected"]),
            "contains_pii": rnd.random() < 0.1, "status": status, "value": rnd.choice(["high", "medium", "low"]),
            "requests": rnd.randint(0, 40), "kcstat_goals": rnd.sample(goals, rnd.randint(0, 2)),
            "license": "https://creativecommons.org/publicdomain/zero/1.0/", "keywords": ["x"], "theme": "T",
            "accrual_periodicity": rnd.choice(["R/P1D", "irregular", None]),
            "data": f"data/{i}.csv", "schema": f"schemas/{i}.json", "row_identifier": "id",
            "history": [{"who": "L", "when": f"2026-{rnd.randint(1, 11):02d}-{rnd.randint(1, 28):02d}T10:00:00Z",
                         "from": "inventoried", "to": "proposed", "note": None}],
        }
        if entry["access_level"] != "public" or entry["classification"] != "public":
            entry["rights"] = "Generated justification."
        per[rnd.choice(departments)].append(entry)
    for dep, entries in per.items():
        doc = {"department": {"id": dep, "name": dep}, "datasets": entries}
        (root / "inventory" / f"{dep}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    marker.touch()


def median_seconds(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks score")
    parser.add_argument("--datasets", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from kcdata.inventory import load_inventory
    from kcdata.review.agenda import build_agenda, build_queue
    from kcdata.score import DEFAULT_METHOD, score_inventory

    root = DATA / str(args.datasets)
    generate(root, args.datasets)
    inv = load_inventory(root).inventory
    ranking = score_inventory(inventory=inv, method=DEFAULT_METHOD)
    today = dt.date(2026, 11, 27)

    load_s = median_seconds(lambda: load_inventory(root), args.repeats)
    score_s = median_seconds(lambda: score_inventory(inventory=inv, method=DEFAULT_METHOD), args.repeats)

    def agenda() -> None:
        queue = build_queue(inventory=inv, ranking=ranking)
        build_agenda(inventory=inv, ranking=ranking, queue=queue, method_version="bench", today=today)

    agenda_s = median_seconds(agenda, args.repeats)
    print(f"inventory: {len(inv.datasets):,} datasets in {len(inv.departments)} departments; "
          f"median of {args.repeats} repeats (shared CPU: noisy)")
    print(f"reference load_inventory: {load_s * 1000:.0f} ms")
    for name, seconds in (("score_inventory", score_s), ("queue + agenda", agenda_s)):
        print(f"{name}: {seconds * 1000:.0f} ms = {seconds / load_s:.2f} × load (informational: no target)")
    return 0
