"""``python -m benchmarks [NAME ...]`` (``make bench``): run every benchmark, or the named ones.

``python -m benchmarks NAME --opt value ...`` passes the options to that one benchmark, e.g.
``python -m benchmarks publish --rows 200000``.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    split = next((i for i, arg in enumerate(argv) if arg.startswith("-")), len(argv))
    names, options = argv[:split], argv[split:]
    if options and len(names) != 1:
        print("usage: python -m benchmarks [NAME ...] | python -m benchmarks NAME --option ...", file=sys.stderr)
        return 2
    names = names or sorted(p.stem[len("bench_"):] for p in here.glob("bench_*.py"))
    worst = 0
    for name in names:
        print(f"\n=== benchmark: {name} ===", flush=True)
        module = importlib.import_module(f"benchmarks.bench_{name}")
        worst = max(worst, int(module.main(options)))
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
