"""``python -m benchmarks [NAME ...]`` (``make bench``): run every benchmark, or the named ones."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = argv or sorted(p.stem[len("bench_"):] for p in here.glob("bench_*.py"))
    worst = 0
    for name in names:
        print(f"\n=== benchmark: {name} ===", flush=True)
        module = importlib.import_module(f"benchmarks.bench_{name}")
        worst = max(worst, int(module.main([])))
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
