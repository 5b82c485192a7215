"""Memory: peak RSS of a crawl of 100,000 items through the full pipeline stays flat.

    .venv/bin/python bench/bench_memory.py [--items 100000] [--rows 25] [--database sqlite]

Uses bench_crawl.py's synthetic Tweede Kamer recording (``--items / --rows`` pages, served over
loopback HTTP by a process of its own) and crawls it with our spider and pipelines into a fresh
archive, in one process, reading that process's RSS (VmRSS) and peak RSS (VmHWM) every 10,000
items. Prints the samples and the growth between 10k and the end; "flat" means the peak does
not grow with the item count (issue 9).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_crawl  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=25, help="Rows per page.")
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--every", type=int, default=10_000, help="Sample every N items.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    pages = args.items // args.rows
    folder = Path(f"/tmp/beleidsradar-bench-crawl-{pages}x{args.rows}-{args.seed}")
    if not (folder / "manifest.json").exists():
        started = time.perf_counter()
        bench_crawl.make_recording(folder, pages, args.rows, args.seed)
        print(f"recording: {pages} pages × {args.rows} rows in {time.perf_counter() - started:.1f} s")
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}")
    server = bench_crawl.Server(folder)
    try:
        result = bench_crawl.run_child("pipeline", server.base, folder, args.database,
                                       rss_every=args.every)
    finally:
        server.close()
    print(f"{result['items']} items in {result['seconds']:.0f} s ({result['items_per_s']:.0f}/s), "
          f"archive {result['archive']}")
    print(f"{'items':>8} {'RSS MiB':>8} {'peak MiB':>9}")
    for items, rss, peak in result["rss"]:
        print(f"{items:>8} {rss / 1024:>8.1f} {peak / 1024:>9.1f}")
    first, last = result["rss"][0], result["rss"][-1]
    print(f"peak growth from {first[0]:,} to {last[0]:,} items: {(last[2] - first[2]) / 1024:+.1f} MiB "
          f"({(last[2] - first[2]) / max(1, last[0] - first[0]) * 1024:.2f} bytes per item)")


if __name__ == "__main__":
    main()
