"""``make demo`` (``python -m kcdata.demo``): run the pipeline on the embedded Kansas City program.

A small orchestrator: each step is a real ``kcdata`` command run in-process, exactly as a user
would type it, against the repository's own folder. Later stages add their steps to ``STEPS``.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# (title, arguments after `kcdata --root REPO`)
STEPS: list[tuple[str, list[str]]] = [
    ("Lint the inventory", ["inventory", "lint"]),
    ("List the inventory", ["inventory", "list"]),
]


def run(args: list[str], *, capture: bool = False) -> tuple[int, str]:
    """Run ``kcdata --root REPO ARGS`` in-process; returns (exit code, captured stdout)."""
    from kcdata.cli import main

    out = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out) if capture else contextlib.nullcontext():
        try:
            main(["--root", str(REPO), *args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Run every demo step, then print a short summary; exit with the worst step's code if >= 3."""
    codes = []
    for title, args in STEPS:
        print(f"\n== {title}: kcdata --root {REPO.name} {' '.join(args)}", flush=True)
        code, _ = run(args)
        codes.append(code)
        print(f"-> exit {code}", flush=True)
    print("\n== Summary")
    code, out = run(["inventory", "lint", "--json"], capture=True)
    try:
        lint = json.loads(out)["data"]
        print(f"inventory: {lint['datasets']} datasets in {lint['files']} department files; "
              f"lint: {lint['errors']} error(s), {lint['warnings']} warning(s)")
        _, out = run(["inventory", "list", "--json"], capture=True)
        rows = json.loads(out)["data"]["datasets"]
        by_status: dict[str, int] = {}
        for d in rows:
            by_status[d["status"]] = by_status.get(d["status"], 0) + 1
        print("by status: " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())))
    except (ValueError, KeyError):
        print("inventory could not be read (see the errors above)")
    worst = max(codes, default=0)
    return worst if worst >= 3 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
