"""Local portal throughput through the real sodapy 2.2.0 client over loopback.

The server runs as ``python -m kcdata portal serve`` in its own process (client and server use
both cores). Rows are generated deterministically per batch (15 columns: text, number,
calendar_date, checkbox, point). Targets, each printed as measured / target:

* upsert 1,000,000 rows in 10,000-row batches: >= 50,000 rows/s
* page through them with ``get_all`` (page size ``--page``, default 50,000): >= 50,000 rows/s
* ``$where`` equality on the row identifier: median < 20 ms

Wall-clock rates on a shared machine mostly measure the other load, so the benchmark also prints the
CPU milliseconds server and client spend per 10,000 rows (from ``/proc``) and the rate that CPU cost
allows when the machine's CPUs are not shared.

Usage: ``python -m benchmarks portal`` or ``python -m benchmarks.bench_portal --rows 200000 --repeats 3``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / ".data" / "portal"
USER, PASSWORD = "bench", "bench-password"
COLUMNS = [("case_id", "text"), ("name", "text"), ("category", "text"), ("status", "text"), ("address", "text"),
           ("amount", "number"), ("quantity", "number"), ("latitude", "number"), ("longitude", "number"),
           ("score", "number"), ("opened", "calendar_date"), ("closed", "calendar_date"), ("active", "checkbox"),
           ("district", "number"), ("location", "point")]
TARGET_UPSERT = 50_000.0
TARGET_READ = 50_000.0
TARGET_LOOKUP_MS = 20.0
CATEGORIES = ["Pothole", "Graffiti", "Animal Services", "Dangerous Buildings", "Trash", "Water", "Streetlight"]
STATUSES = ["open", "assigned", "closed", "resolved", "canceled"]


def template_rows(count: int) -> list[dict[str, Any]]:
    """A deterministic batch of ``count`` varied rows (seeded); batches differ by their ids."""
    rng = random.Random(20261127)
    rows = []
    for i in range(count):
        lat, lon = 39.0 + rng.random() * 0.3, -94.7 + rng.random() * 0.3
        day = 1 + i % 28
        rows.append({
            "case_id": "", "name": f"Request {i}", "category": CATEGORIES[i % len(CATEGORIES)],
            "status": STATUSES[rng.randrange(len(STATUSES))], "address": f"{rng.randrange(1, 9999)} Main St",
            "amount": round(rng.random() * 1000, 2), "quantity": rng.randrange(0, 500),
            "latitude": round(lat, 6), "longitude": round(lon, 6), "score": round(rng.random(), 4),
            "opened": f"2024-{1 + i % 12:02d}-{day:02d}T08:30:00", "closed": f"2025-{1 + i % 12:02d}-{day:02d}",
            "active": i % 3 == 0, "district": 1 + i % 6,
            "location": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        })
    return rows


def batch_rows(template: list[dict[str, Any]], start: int, count: int) -> list[dict[str, Any]]:
    """Rows ``start .. start+count-1``: the template with row identifiers ``KC<8 digits>``."""
    return [dict(template[i], case_id=f"KC{start + i:08d}") for i in range(count)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (Linux /proc), to separate work from waiting on a busy box."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def start_server(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, KCDATA_PORTAL_USERNAME=USER, KCDATA_PORTAL_PASSWORD=PASSWORD,
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    proc = subprocess.Popen([sys.executable, "-m", "kcdata", "portal", "serve", "--port", "0",
                             "--data-dir", str(data_dir)], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://"):
        proc.kill()
        raise RuntimeError(f"portal did not start (printed {url!r})")
    return proc, url


def run_once(args: argparse.Namespace) -> dict[str, Any]:
    """One full measurement on a fresh data dir: upsert, get_all, lookups."""
    import requests
    from sodapy import Socrata

    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    proc, url = start_server(DATA)
    try:
        domain = url.removeprefix("http://")
        client = Socrata(domain, "bench-token", username=USER, password=PASSWORD, timeout=600,
                         session_adapter={"prefix": "http://", "adapter": requests.adapters.HTTPAdapter()})
        view = client.create("Benchmark 311", row_identifier="case_id",
                             columns=[{"fieldName": f, "name": f, "dataTypeName": t} for f, t in COLUMNS])
        ds = view["id"]

        template = template_rows(args.batch)
        local = threading.local()

        def push(start: int) -> float:
            worker = getattr(local, "client", None)
            if worker is None:
                worker = local.client = Socrata(
                    domain, "bench-token", username=USER, password=PASSWORD, timeout=600,
                    session_adapter={"prefix": "http://", "adapter": requests.adapters.HTTPAdapter()})
            rows = batch_rows(template, start, min(args.batch, args.rows - start))
            t0 = time.perf_counter()
            report = worker.upsert(ds, rows)
            elapsed = time.perf_counter() - t0
            if report["Errors"] or report["Rows Created"] != len(rows):
                raise RuntimeError(f"unexpected upsert report {report}")
            return elapsed

        t0, s0, c0 = time.perf_counter(), cpu_seconds(proc.pid), time.process_time()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            batch_seconds = list(pool.map(push, range(0, args.rows, args.batch)))
        upsert_seconds = time.perf_counter() - t0
        upsert_cpu = (cpu_seconds(proc.pid) - s0, time.process_time() - c0)

        t0, s0, c0 = time.perf_counter(), cpu_seconds(proc.pid), time.process_time()
        seen, page_rates, page_start = 0, [], t0
        for _row in client.get_all(ds, limit=args.page):
            seen += 1
            if seen % args.page == 0:  # the last row of a page: get_all fetches the next one after it
                now = time.perf_counter()
                page_rates.append(args.page / (now - page_start))
                page_start = now
        read_seconds = time.perf_counter() - t0
        read_cpu = (cpu_seconds(proc.pid) - s0, time.process_time() - c0)
        if seen != args.rows:
            raise RuntimeError(f"get_all returned {seen} rows, expected {args.rows}")

        rng = random.Random(7)
        lookups = []
        for _ in range(args.lookups):
            key = f"KC{rng.randrange(args.rows):08d}"
            t0 = time.perf_counter()
            hit = client.get(ds, where=f"case_id = '{key}'")
            lookups.append((time.perf_counter() - t0) * 1000)
            if len(hit) != 1 or hit[0]["case_id"] != key:
                raise RuntimeError(f"lookup of {key} returned {hit!r}")
        client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    per = 10_000 / args.rows * 1000
    return {
        "upsert": args.rows / upsert_seconds, "read": seen / read_seconds, "lookup_ms": statistics.median(lookups),
        "batch_ms": statistics.median(batch_seconds) * 1000,
        "page_rate": statistics.median(page_rates) if page_rates else float("nan"),
        "upsert_cpu": (upsert_cpu[0] * per, upsert_cpu[1] * per), "read_cpu": (read_cpu[0] * per, read_cpu[1] * per),
    }


def capacity(server_ms: float, client_ms: float, *, pipelined: bool, cpus: int) -> float:
    """Rows/s the measured CPU cost allows when the machine's CPUs are not shared with anyone else.

    Pipelined (several upsert clients): server and client work overlap, bounded by the busier side
    and by the total over the CPUs. Sequential (get_all fetches a page, then parses it): the sum.
    """
    per_10k = max(server_ms, client_ms, (server_ms + client_ms) / cpus) if pipelined else server_ms + client_ms
    return 10_000 / per_10k * 1000


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_portal")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--page", type=int, default=10_000, help="get_all page size ($limit)")
    parser.add_argument("--lookups", type=int, default=101)
    parser.add_argument("--clients", type=int, default=2,
                        help="sodapy clients uploading batches at once (2: client encodes while server applies)")
    parser.add_argument("--repeats", type=int, default=1, help="full runs (fresh server and data each); medians")
    args = parser.parse_args(argv)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

    runs = [run_once(args) for _ in range(args.repeats)]

    def med(key: str, index: int | None = None) -> float:
        return statistics.median(r[key] if index is None else r[key][index] for r in runs)

    cpus = os.cpu_count() or 1
    upsert, read, lookup = med("upsert"), med("read"), med("lookup_ms")
    up_srv, up_cli, rd_srv, rd_cli = med("upsert_cpu", 0), med("upsert_cpu", 1), med("read_cpu", 0), med("read_cpu", 1)
    up_cap = capacity(up_srv, up_cli, pipelined=args.clients > 1, cpus=cpus)
    rd_cap = capacity(rd_srv, rd_cli, pipelined=False, cpus=cpus)
    print(f"portal benchmark: {args.rows:,} rows x {len(COLUMNS)} columns, upsert batches of {args.batch:,} from "
          f"{args.clients} sodapy client(s), get_all page size {args.page:,}; server in its own process; "
          f"medians over {args.repeats} run(s); load average now {os.getloadavg()[0]:.1f} on {cpus} CPUs")
    print(f"  {'':9}{'measured':>24}{'target':>14}{'ratio':>8}")
    print(f"  {'upsert':9}{upsert:>17,.0f} rows/s{TARGET_UPSERT:>10,.0f} /s{upsert / TARGET_UPSERT:>8.2f}"
          f"   (wall clock; median batch {med('batch_ms'):.0f} ms)")
    print(f"  {'get_all':9}{read:>17,.0f} rows/s{TARGET_READ:>10,.0f} /s{read / TARGET_READ:>8.2f}"
          f"   (wall clock; median page {med('page_rate'):,.0f} rows/s)")
    print(f"  {'lookup':9}{lookup:>20.2f} ms  < {TARGET_LOOKUP_MS:>6.0f} ms{TARGET_LOOKUP_MS / lookup:>8.2f}"
          f"   (median of {args.lookups}; ratio = target / measured)")
    print(f"  CPU ms per 10,000 rows (server / client): upsert {up_srv:.0f} / {up_cli:.0f}, "
          f"get_all {rd_srv:.0f} / {rd_cli:.0f}")
    print(f"  CPU-bound rate if the {cpus} CPUs were not shared: upsert {up_cap:,.0f} rows/s "
          f"(ratio {up_cap / TARGET_UPSERT:.2f}), get_all {rd_cap:,.0f} rows/s (ratio {rd_cap / TARGET_READ:.2f})")
    ok = upsert >= TARGET_UPSERT and read >= TARGET_READ and lookup < TARGET_LOOKUP_MS
    print("  all targets met (wall clock)" if ok else "  NOT all targets met on the wall clock (see load average)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
