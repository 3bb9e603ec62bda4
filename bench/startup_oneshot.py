"""The one-shot script of bench/startup.ts with CPython's multiprocessing:
import, a pool of 2, one map of 10 000 items, terminate. With `--maps=N`
it waits for the pool to answer once, then maps N times, and prints those
milliseconds (`@@maps [ready, map 1, ...]`)."""

import json
import multiprocessing
import sys
import time


def square(x):
    return x * x


if __name__ == "__main__":
    maps = next((int(a[7:]) for a in sys.argv if a.startswith("--maps=")), None)
    pool = multiprocessing.Pool(2)
    if maps is None:
        pool.map(square, range(10_000))
    else:
        t0 = time.perf_counter()
        pool.apply(abs, (0,))
        ms = [(time.perf_counter() - t0) * 1000]
        for _ in range(maps):
            t0 = time.perf_counter()
            pool.map(square, range(10_000))
            ms.append((time.perf_counter() - t0) * 1000)
        print("@@maps " + json.dumps(ms))
    pool.terminate()
