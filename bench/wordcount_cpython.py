"""Word count over a text file with CPython's multiprocessing.Pool (stdlib only).

The CPython side of bench/futures_wordcount.ts. One sample per run:

    python3 bench/wordcount_cpython.py --sample partitioned --file F --parts 32 --processes 2
    python3 bench/wordcount_cpython.py --sample single --file F

`partitioned` cuts the file like skypool's partitionObjects (each nominal cut
moved to just after the next newline, found by reading a small window), and
each pool worker opens the file, reads only its range, decodes it and counts
its words. The pool is started and warmed before the clock starts, as on the
skypool side. Prints one line `@@bench {"ms": …, "words": …}`.
"""

import argparse
import json
import multiprocessing
import os
import time

WINDOW = 64 * 1024


def cut_after_newline(f, size, target):
    pos = target - 1
    while pos < size:
        f.seek(pos)
        window = f.read(min(WINDOW, size - pos))
        if not window:
            break
        i = window.find(b"\n")
        if i >= 0:
            return pos + i + 1
        pos += len(window)
    return size


def boundaries(path, parts):
    size = os.path.getsize(path)
    chunk = -(-size // parts)
    out = [0]
    with open(path, "rb") as f:
        for target in range(chunk, size, chunk):
            c = cut_after_newline(f, size, target)
            if out[-1] < c < size:
                out.append(c)
    out.append(size)
    return out


def count_range(args):
    path, start, end = args
    with open(path, "rb") as f:
        f.seek(start)
        return len(f.read(end - start).decode("utf-8").split())


def noop(x):
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", choices=["single", "partitioned"], required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--parts", type=int, default=32)
    ap.add_argument("--processes", type=int, default=2)
    a = ap.parse_args()
    if a.sample == "single":
        t0 = time.perf_counter()
        with open(a.file, "rb") as f:
            words = len(f.read().decode("utf-8").split())
        ms = (time.perf_counter() - t0) * 1000
    else:
        with multiprocessing.Pool(a.processes) as pool:
            pool.map(noop, range(a.processes))
            t0 = time.perf_counter()
            b = boundaries(a.file, a.parts)
            words = sum(pool.map(count_range, [(a.file, b[i], b[i + 1]) for i in range(len(b) - 1)], chunksize=1))
            ms = (time.perf_counter() - t0) * 1000
    print("@@bench " + json.dumps({"ms": ms, "words": words}), flush=True)


if __name__ == "__main__":
    main()
