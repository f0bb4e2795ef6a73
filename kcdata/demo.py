"""``make demo`` (``python -m kcdata.demo``): the whole pipeline on the embedded Kansas City program.

A small orchestrator: each step is a real ``kcdata`` command run in-process, exactly as a user
would type it. It works on a fresh copy of the repository's program under ``build/demo/`` (the
committed inventory is never changed), starts a local Socrata-compatible portal for the publish
steps and stops it at the end. Each step declares the exit codes it is expected to end with: the
sample data has flawed files on purpose, so "found problems" (1) is the right answer for
``validate``, and a refused approval (5) shows the review gates at work.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROGRAM_PARTS = ("inventory", "schemas", "data", "docs", "kcdata.yaml")


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    title: str
    args: tuple[str, ...] = ()
    expect: frozenset[int] = frozenset({0})
    why: str = ""
    # A scripted event instead of a kcdata command (something that happens to the program or the portal).
    event: Callable[[Path], str] | None = None


# The published sample dataset the monitor steps watch (inventory: `monitor: {date_field, group_by}`).
WATCHED = "311-call-center-reported-issues"
PLANTED_LOSS = 25
EDITED = "mci-passenger-traffic"


def steps(out: Path) -> tuple[list[Step], list[Step]]:
    """The steps before the portal is needed, and the steps that use it."""
    offline = [
        Step(title="Lint the inventory", args=("inventory", "lint")),
        Step(title="The approved datasets, waiting to be published",
             args=("inventory", "list", "--status", "approved")),
        Step(title="Validate every dataset that has data and a schema", args=("validate",),
             expect=frozenset({1}), why="four sample files are flawed on purpose (docs/sample-program.md)"),
        Step(title="Release priorities (the committee's scoring method in kcdata.yaml)",
             args=("score", "--top", "10")),
        Step(title="Why the top dataset ranks where it does", args=("score", "explain", "trees-planted")),
        Step(title="What waits for the committee", args=("review", "queue")),
        Step(title="Try to approve a dataset whose data is flawed", expect=frozenset({5}),
             args=("review", "approve", "pothole-repair-requests", "--by", "Open Data Committee"),
             why="the approve gate refuses it: validation fails on the current data file"),
        Step(title="Sunlight policy scorecard", args=("policy", "check"), expect=frozenset({0, 1}),
             why="the sample program has real findings (overdue releases, stale reviews)"),
        Step(title="KCStat goal coverage", args=("goals",), expect=frozenset({0, 1})),
        *adoption_steps(out / "program", out),
    ]
    online = [
        Step(title="Plan the release to the local portal", args=("publish", "plan"), expect=frozenset({1}),
             why="exit 1: there are changes to apply"),
        Step(title="Publish the approved datasets", args=("publish", "apply", "--yes")),
        Step(title="Plan again: nothing left to do", args=("publish", "plan")),
        Step(title="Publish log", args=("publish", "log")),
        Step(title="Freshness of published datasets", args=("freshness",)),
        Step(title="Monitor the published datasets (the first run is the baseline)", args=("monitor",),
             expect=frozenset({1}), why=f"{WATCHED}'s newest open_date_time is months old: stale content, "
                                        "although the portal was loaded a moment ago"),
        Step(title=f"A broken nightly load: {PLANTED_LOSS} rows of {WATCHED} vanish from the portal",
             event=plant_row_loss),
        Step(title="Monitor again: the shrinkage is caught", args=("monitor", WATCHED), expect=frozenset({1}),
             why="rows fell against the last run and against the source file"),
        Step(title="The monitor history of the watched dataset", args=("monitor", WATCHED, "--history")),
        Step(title=f"A liaison revises {EDITED}: 3 rows withdrawn, the description reworded",
             event=revise_dataset),
        Step(title="Publish again: only the change is sent", args=("publish", "apply", "--yes")),
        Step(title="What changed, release by release (the changelog for data users)", args=("changes",)),
        Step(title="DCAT-US data.json for the public", args=("export", "datajson", "-o", str(out / "data.json"))),
        # The local portal is a staging portal: statuses and portal ids in the inventory belong to
        # the production portal (program.portal_domain), so the announcements are the program's own.
        Step(title="Announce the program's releases since 2025", args=("announce", "--since", "2025-01-01",
                                                                      "-o", str(out / "announce"))),
        Step(title="Build the public catalog site", args=("site", "build", "-o", str(out / "site"))),
    ]
    return offline, online


def plant_row_loss(root: Path) -> str:
    """Delete rows of the watched dataset on the local portal behind kcdata's back, as a failed load would."""
    import requests
    from sodapy import Socrata

    from kcdata.config import portal_credentials
    from kcdata.inventory import load_inventory
    from kcdata.publish.client import connect
    from kcdata.publish.observe import find_view

    creds = portal_credentials()
    assert creds.url and creds.username and creds.password
    dataset = load_inventory(root).inventory.get(WATCHED)
    client = connect(url=creds.url, username=creds.username, password=creds.password, app_token=None)
    try:
        view, _identity, _problems = find_view(client, dataset, production_domain=None)
        assert view is not None, f"{WATCHED} is not on the local portal"
        portal_id = str(view["id"])
        keys = [row[dataset.row_identifier or ""] for row in client.fetch_all_rows(
            portal_id, select=[dataset.row_identifier or ""])][:PLANTED_LOSS]
    finally:
        client.close()
    soda = Socrata(client.domain, "kcdata-demo", username=creds.username, password=creds.password,
                   session_adapter={"prefix": "http://", "adapter": requests.adapters.HTTPAdapter()})
    try:
        soda.upsert(portal_id, [{dataset.row_identifier: key, ":deleted": True} for key in keys])
    finally:
        soda.close()
    return f"deleted {len(keys)} rows of {portal_id} directly on the portal"


def revise_dataset(root: Path) -> str:
    """Withdraw the last 3 rows of a sample file and reword the entry's description (a liaison's edit)."""
    from kcdata.inventory import load_inventory
    from kcdata.inventory.writer import update_dataset

    dataset = load_inventory(root).inventory.get(EDITED)
    assert dataset.data is not None and dataset.source is not None
    data = root / dataset.data
    lines = data.read_text(encoding="utf-8").splitlines(keepends=True)
    data.write_text("".join(lines[:-3]), encoding="utf-8")
    update_dataset(root=root, dataset_id=EDITED,
                   set_fields={"description": dataset.description + " Figures for the latest months are provisional."})
    return f"{dataset.data}: 3 rows removed; {dataset.source.file}: description reworded"


def adoption_steps(program: Path, out: Path) -> list[Step]:
    """Day one in another city: its own inventory workbook imported through a mapping file, a schema
    inferred for a data file, a data dictionary."""
    sheet = str(program / "data" / "adoption" / "city-inventory.csv")
    mapping = str(program / "data" / "adoption" / "city-inventory-map.yaml")
    refused = "one row is refused on purpose (data/adoption/README.md): the map does not translate 'Sometimes'"
    return [
        Step(title="Import an office's own inventory spreadsheet through a mapping file (dry run)",
             args=("inventory", "import", sheet, "--map", mapping, "--dry-run"), expect=frozenset({1}),
             why=refused + "; one dataset is already in the inventory and differs (needs --update)"),
        Step(title="Import it, updating the dataset already in the inventory field by field",
             args=("inventory", "import", sheet, "--map", mapping, "--update"), expect=frozenset({1}), why=refused),
        Step(title="What the import wrote lints clean", args=("inventory", "lint")),
        Step(title="Infer a Table Schema for a data file (review the # review: notes)",
             args=("schema", "infer", str(program / "data" / "samples" / "building-permits.csv"), "-o",
                   str(out / "building-permits.schema.yaml"))),
        Step(title="A dataset's data dictionary", args=("dictionary", "water-main-breaks")),
    ]


def run(root: Path, args: tuple[str, ...]) -> int:
    """Run ``kcdata --root ROOT ARGS`` in-process, as the entry point does; returns its exit code."""
    from kcdata.cli import main

    try:
        main(["--root", str(root), *args])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def fresh_copy(out: Path) -> Path:
    """Copy the embedded program into ``out/program`` (replacing an earlier demo's copy)."""
    program = out / "program"
    if program.exists():
        shutil.rmtree(program)
    program.mkdir(parents=True)
    for part in PROGRAM_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, program / part)
        elif src.exists():
            shutil.copy2(src, program / part)
    return program


@contextlib.contextmanager
def local_portal(data_dir: Path) -> Iterator[str]:
    """A local portal on a free loopback port, with one-off write credentials in the environment."""
    from kcdata.config import ENV_PORTAL_PASSWORD, ENV_PORTAL_URL, ENV_PORTAL_USERNAME
    from kcdata.portal import PortalServer

    if data_dir.exists():
        shutil.rmtree(data_dir)
    password = secrets.token_urlsafe(18)
    server = PortalServer(data_dir=data_dir, username="demo-publisher", password=password).start()
    saved = {k: os.environ.get(k) for k in (ENV_PORTAL_URL, ENV_PORTAL_USERNAME, ENV_PORTAL_PASSWORD,
                                            "NO_PROXY", "no_proxy")}
    os.environ.update({ENV_PORTAL_URL: server.url, ENV_PORTAL_USERNAME: "demo-publisher",
                       ENV_PORTAL_PASSWORD: password, "NO_PROXY": "127.0.0.1,localhost",
                       "no_proxy": "127.0.0.1,localhost"})
    try:
        yield server.url
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def main(argv: list[str] | None = None) -> int:
    """Run every step; exit 0 when each ended as expected, else 1."""
    parser = argparse.ArgumentParser(prog="python -m kcdata.demo", description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "demo",
                        help="working folder for the program copy, portal data, site (default: build/demo)")
    opts = parser.parse_args(argv)
    out = opts.out.resolve()
    program = fresh_copy(out)
    offline, online = steps(out)
    results: list[tuple[Step, int]] = []

    def do(step: Step) -> None:
        if step.event is not None:
            print(f"\n== {step.title}", flush=True)
            print(f"(demo) {step.event(program)}", flush=True)
            return
        print(f"\n== {step.title}\n$ kcdata {' '.join(step.args)}", flush=True)
        code = run(program, step.args)
        results.append((step, code))
        note = f" ({step.why})" if step.why and code in step.expect else ""
        verdict = "as expected" if code in step.expect else f"UNEXPECTED (expected {sorted(step.expect)})"
        print(f"-> exit {code}, {verdict}{note}", flush=True)

    print(f"kcdata demo: the sample Kansas City program, copied to {program}")
    for step in offline:
        do(step)
    with local_portal(out / "portal") as url:
        print(f"\n== Local Socrata-compatible portal started at {url}", flush=True)
        for step in online:
            do(step)
    print("\n== Local portal stopped")
    failed = [(s, c) for s, c in results if c not in s.expect]
    print(f"\n{len(results) - len(failed)} of {len(results)} steps ended as expected.")
    for step, code in failed:
        print(f"  unexpected: `kcdata {' '.join(step.args)}` exited {code}")
    index = out / "site" / "index.html"
    if index.exists():
        print(f"Open the public catalog site: {index.as_uri()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
