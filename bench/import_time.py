"""How long ``import allm`` takes in a fresh interpreter, and what it drags in.

Median of N fresh processes, each timing its own import (interpreter start-up excluded). The
baseline is ``import json`` timed the same way in the same run.

    python bench/import_time.py [runs]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

PROBE = """
import sys, time
t0 = time.perf_counter()
import {module}
elapsed = time.perf_counter() - t0
print(elapsed, 'httpx' in sys.modules, 'asyncio' in sys.modules, 'anyio' in sys.modules)
"""


def measure(module: str, runs: int) -> tuple[float, bool, bool, bool]:
    times = []
    flags = (False, False, False)
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(module=module)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        times.append(float(out[0]))
        flags = (out[1] == "True", out[2] == "True", out[3] == "True")
    return (statistics.median(times), *flags)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    allm_time, httpx_loaded, asyncio_loaded, anyio_loaded = measure("allm", runs)
    json_time, *_ = measure("json", runs)
    result = {
        "runs": runs,
        "import_allm_ms_median": round(allm_time * 1000, 2),
        "baseline_import_json_ms_median": round(json_time * 1000, 2),
        "httpx_imported": httpx_loaded,
        "asyncio_imported": asyncio_loaded,
        "anyio_imported": anyio_loaded,
        "target_ms": 50,
        "ok": allm_time < 0.050 and not (httpx_loaded or asyncio_loaded or anyio_loaded),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
