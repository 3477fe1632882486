"""Start-up time of the ``lowfreq`` command: ``lowfreq --help``, ``lowfreq list analyses`` (no Lightning, no torch)
and ``lowfreq fit --help``.

Each command runs in a fresh interpreter (``python -m lowfreq ...``, what the console script runs) ``--repeat``
times; the best wall-clock time is printed in seconds, with the load average, since on a shared machine the
other processes dominate the spread.

    python benchmarks/cli_startup.py [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

COMMANDS = {
    "lowfreq --help": ["--help"],
    "lowfreq list analyses": ["list", "analyses"],
    "lowfreq fit --help": ["fit", "--help"],
}


def best_of(argv: list[str], repeat: int) -> float:
    """Best wall-clock seconds of ``python -m lowfreq *argv`` over ``repeat`` runs (each must exit with 0)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "lowfreq", *argv], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per command; the best is reported")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    result = {name: best_of(argv, args.repeat) for name, argv in COMMANDS.items()}
    for name, seconds in result.items():
        print(f"{name:<22} {seconds:6.2f} s  (best of {args.repeat}, load average {load:.2f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seconds": result, "repeat": args.repeat, "load_average": load}, f, indent=2)


if __name__ == "__main__":
    main()
