// What a FunctionExecutor reports about its calls: plot() writes the SVG
// timeline and histogram of the futures' stats, a progress bar runs while
// wait/getResult block when asked for, and with exportExecutionDetails set
// the plots are written on dispose.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { config, FunctionExecutor } from "../../mod.ts";
import { makeTempDir, removeDir, withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 120_000 };

const bars = (svg: string) => svg.match(/<rect class="call"/g)?.length ?? 0;

/** Runs `body` with everything written to stderr captured (the progress bar draws there). */
async function capturingStderr(body: () => Promise<unknown>): Promise<string> {
  const chunks: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    await body();
  } finally {
    process.stderr.write = write;
  }
  return chunks.join("");
}

for (const transport of ["inline", "local"] as const) {
  describe(`FunctionExecutor plots and progress on ${transport}`, () => {
    let dir = "";
    let fexec: FunctionExecutor;
    before(async () => {
      dir = await makeTempDir("skypool-reporting-");
      fexec = new FunctionExecutor({ transport, workers: 2, showProgressbar: false });
    });
    after(async () => {
      await fexec[Symbol.asyncDispose]();
      await removeDir(dir);
    });

    test("plot writes a timeline with one bar per call and a histogram, and returns their paths", T, async () => {
      const fs = await fexec.map((x: number) => x + 1, [1, 2, 3, 4, 5], { chunksize: 1 });
      await withTimeout(fexec.getResult(fs), 60_000, "map");
      const [timeline, histogram] = await fexec.plot(fs.slice(1), join(dir, "run"));
      assert.equal(timeline, join(dir, "run_timeline.svg"));
      assert.equal(histogram, join(dir, "run_histogram.svg"));
      assert.equal(bars(await readFile(timeline, "utf8")), 4, "one bar per call plotted");
      assert.match(await readFile(histogram, "utf8"), /<rect class="bin"/);
      const [all] = await fexec.plot(undefined, join(dir, "all"));
      assert.equal(bars(await readFile(all, "utf8")), fexec.jobSummary().calls, "without fs every future is plotted");
    });

    test("plot refuses a bad destination before writing anything", async () => {
      await assert.rejects(fexec.plot(undefined, ""), (e: Error) => e instanceof TypeError && /plot: dst must be a non-empty path prefix, got ""/.test(e.message));
    });

    test("showProgressbar on a wait draws the bar up to the calls done; off, nothing is drawn", T, async () => {
      const fs = await fexec.map(async (ms: number) => await new Promise((r) => setTimeout(r, ms)), [30, 60, 90], { chunksize: 1 });
      const shown = await capturingStderr(() => withTimeout(fexec.wait(fs, { showProgressbar: true }), 60_000, "wait"));
      assert.match(shown, /3\/3 calls \| 100%/);
      const quiet = await capturingStderr(() => withTimeout(fexec.getResult(fs), 60_000, "getResult"));
      assert.equal(quiet, "", "the executor's showProgressbar: false holds");
    });
  });
}

describe("FunctionExecutor defaults and clean", () => {
  test("the progress bar is on by default exactly when stderr is a terminal", async () => {
    await using fexec = new FunctionExecutor({ transport: "inline" });
    assert.equal(fexec.showProgressbar, process.stderr.isTTY === true);
  });

  test("clean({ fs }) forgets only those futures: getResult and jobSummary without fs skip them", T, async () => {
    await using fexec = new FunctionExecutor({ transport: "inline", showProgressbar: false });
    const fs = await fexec.map((x: number) => x, [1, 2, 3]);
    await fexec.getResult(fs);
    await fexec.clean({ fs: fs[0], cleanCloudobjects: true });
    assert.equal(fexec.jobSummary().calls, 2);
    assert.deepEqual(await fexec.getResult(), [2, 3]);
    assert.equal(await fs[0].result(), 1, "a forgotten future keeps its result");
    await assert.rejects(fexec.clean({ cleanCloudobjects: "yes" as never }), /cleanCloudobjects must be a boolean, got string/);
  });
});

describe("exportExecutionDetails", () => {
  let dir = "";
  before(async () => {
    dir = await makeTempDir("skypool-export-");
  });
  after(async () => {
    config.reset();
    await removeDir(dir);
  });

  test("set to a folder, disposing an executor writes its timeline and histogram there", T, async () => {
    config.setParameter(config.EXPORT_EXECUTION_DETAILS, join(dir, "details"));
    {
      await using fexec = new FunctionExecutor({ transport: "local", workers: 2, showProgressbar: false });
      await withTimeout(fexec.getResult(await fexec.map((x: number) => x * 2, [1, 2, 3], { chunksize: 1 })), 60_000, "map");
    }
    const written = (await readdir(join(dir, "details"))).sort();
    assert.equal(written.length, 2);
    assert.match(written[0], /^executor-\d+-\d+_histogram\.svg$/);
    assert.equal(written[1], written[0].replace("_histogram", "_timeline"));
    assert.equal(bars(await readFile(join(dir, "details", written[1]), "utf8")), 3);
  });

  test("unset, disposing writes nothing", T, async () => {
    config.reset();
    const before = existsSync(join(dir, "details")) ? (await readdir(join(dir, "details"))).length : 0;
    {
      await using fexec = new FunctionExecutor({ transport: "inline", showProgressbar: false });
      await fexec.getResult(await fexec.map((x: number) => x, [1]));
    }
    assert.equal(config.get().exportExecutionDetails, null);
    assert.equal((await readdir(join(dir, "details"))).length, before);
  });
});
