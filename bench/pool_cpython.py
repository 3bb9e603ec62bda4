"""CPython's multiprocessing.Pool on the workloads of bench/pool.ts (stdlib only).

Standalone, `python3 bench/pool_cpython.py` runs every workload a few times
and prints one JSON document. With `--serve` it is the CPython runner of
bench/pool.ts: it reads one JSON command per line on stdin and answers each
with one line `@@bench {json}` on stdout, so that the orchestrator can
interleave its samples with the other implementations' (the machine is noisy).
"""

import json
import os
import multiprocessing
import platform
import sys
import time

PREFIX = "@@bench "


# Module-level functions: the stdlib pickles tasks by qualified name.
def inc(x):
    return x + 1


def worker_pid(_):
    return os.getpid()


def ident(x):
    return x


def ms_since(t0):
    return (time.perf_counter() - t0) * 1000.0


class Runner:
    def __init__(self):
        self.pool = None

    def setup(self, processes, n_map, n_apply):
        """The pool for the warm workloads, started and warmed outside any timing."""
        t0 = time.perf_counter()
        self.pool = multiprocessing.Pool(processes)
        self.pool.apply(ident, (1,))
        first_start_ms = ms_since(t0)
        # As the skypool runners: warm up once every worker has answered (all are, once Pool() returns).
        seen = set()
        while len(seen) < processes:
            seen.update(self.pool.map(worker_pid, range(4 * processes), 1))
        self.pool.map(inc, range(n_map))
        self.apply_burst(n_apply)
        return {"ms": ms_since(t0), "firstStartMs": first_start_ms}

    def pool_start(self, processes):
        t0 = time.perf_counter()
        p = multiprocessing.Pool(processes)
        r = p.apply(ident, (1,))
        ms = ms_since(t0)
        p.terminate()
        p.join()
        if r != 1:
            raise AssertionError(f"apply returned {r!r}")
        return {"ms": ms}

    def map_warm(self, n):
        t0 = time.perf_counter()
        out = self.pool.map(inc, range(n))
        ms = ms_since(t0)
        if out != list(range(1, n + 1)):
            raise AssertionError("map returned wrong results")
        return {"ms": ms}

    def apply_burst(self, n):
        t0 = time.perf_counter()
        rs = [self.pool.apply_async(inc, (i,)) for i in range(n)]
        out = [r.get() for r in rs]
        ms = ms_since(t0)
        if out != list(range(1, n + 1)):
            raise AssertionError("apply_async returned wrong results")
        return {"ms": ms, "n": n}

    def big_map(self, count, size):
        # Distinct strings: pickle memoizes repeated objects inside one chunk,
        # and `['x' * size] * count` would then cross only once per chunk.
        payload = [chr(97 + i % 26) * size for i in range(count)]
        p = multiprocessing.Pool(1)
        try:
            p.apply(ident, (1,))
            t0 = time.perf_counter()
            out = p.map(ident, payload)
            ms = ms_since(t0)
        finally:
            p.terminate()
            p.join()
        if out != payload:
            raise AssertionError("big map returned wrong results")
        return {"ms": ms}

    def handle(self, cmd):
        op = cmd["op"]
        if op == "setup":
            return self.setup(cmd["processes"], cmd["n_map"], cmd["n_apply"])
        if op == "pool_start":
            return self.pool_start(cmd["processes"])
        if op == "map_warm":
            return self.map_warm(cmd["n"])
        if op == "apply_burst":
            return self.apply_burst(cmd["n"])
        if op == "big_map":
            return self.big_map(cmd["count"], cmd["bytes"])
        if op == "info":
            return {"version": platform.python_version(), "implementation": platform.python_implementation(),
                    "executable": sys.executable, "start_method": multiprocessing.get_start_method()}
        raise ValueError(f"unknown op {op!r}")

    def close(self):
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


def serve():
    runner = Runner()
    try:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            cmd = json.loads(line)
            if cmd["op"] == "quit":
                break
            try:
                reply = {"ok": True, **runner.handle(cmd)}
            except Exception as e:  # reported to the orchestrator, which records the failure
                reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
            sys.stdout.write(PREFIX + json.dumps(reply) + "\n")
            sys.stdout.flush()
    finally:
        runner.close()


def standalone(reps=5):
    runner = Runner()
    try:
        info = runner.handle({"op": "info"})
        runner.setup(2, 10000, 2000)
        samples = {"pool_start": [], "map_warm": [], "apply_burst": [], "big_map": []}
        for _ in range(reps):
            samples["pool_start"].append(runner.pool_start(2)["ms"])
            samples["map_warm"].append(runner.map_warm(10000)["ms"])
            samples["apply_burst"].append(runner.apply_burst(2000)["ms"])
        for _ in range(3):
            samples["big_map"].append(runner.big_map(6, 2 ** 24)["ms"])
        med = {k: sorted(v)[len(v) // 2] for k, v in samples.items()}
        print(json.dumps({"runtime": info, "unit": "ms", "median": med, "samples": samples}, indent=2))
    finally:
        runner.close()


if __name__ == "__main__":
    if "--serve" in sys.argv[1:]:
        serve()
    else:
        standalone()
