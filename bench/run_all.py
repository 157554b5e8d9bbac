"""Run every benchmark under bench/ (each prints its figures and its same-run baseline)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
# benchmarks that need external data take it from the environment or are skipped with a message
ARGS = {"collusion_validation.py": ["../shared/external/collusion"]}

if __name__ == "__main__":
    failed = []
    for script in sorted(HERE.glob("bench_*.py")) + sorted(p for p in HERE.glob("*.py") if p.name in ARGS):
        args = ARGS.get(script.name, [])
        if args and not Path(args[0]).exists():
            print(f"skip {script.name}: {args[0]} not found")
            continue
        print(f"\n== {script.name}")
        if subprocess.call([sys.executable, str(script), *args]) != 0:
            failed.append(script.name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")
