import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { startProgress } from "../../src/executor/progress_bar.ts";

/** A stream that records what is written to it, posing as a terminal or not. */
function recorder(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 100, write: (c: string) => chunks.push(String(c)) } };
}

// Escape sequences (cursor moves, line clears) between the drawn frames.
// deno-lint-ignore no-control-regex -- terminal escapes start with ESC
const plain = (chunks: string[]) => chunks.join("").replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, "");

describe("startProgress", () => {
  test("on a terminal it draws the bar and ends with the last value", async () => {
    const { chunks, stream } = recorder(true);
    const bar = startProgress(10, { stream });
    bar.update(3);
    await new Promise((r) => setTimeout(r, 50));
    bar.update(7);
    await bar.stop();
    const out = plain(chunks);
    assert.match(out, /\d+\/10 calls/);
    assert.match(out, /7\/10 calls \| 70%/);
    const drawn = chunks.length;
    await bar.stop();
    assert.equal(chunks.length, drawn, "a second stop draws nothing");
  });

  test("when the stream is not a terminal nothing is printed, unless enabled explicitly", async () => {
    const quiet = recorder(false);
    const bar = startProgress(5, { stream: quiet.stream });
    bar.update(2);
    bar.update(5);
    await bar.stop();
    assert.deepEqual(quiet.chunks, []);

    const off = recorder(true);
    const disabled = startProgress(5, { stream: off.stream, enabled: false });
    disabled.update(4);
    await disabled.stop();
    assert.deepEqual(off.chunks, []);

    const forced = recorder(false);
    const shown = startProgress(5, { stream: forced.stream, enabled: true });
    shown.update(4);
    await shown.stop();
    assert.match(plain(forced.chunks), /4\/5 calls/);
  });

  test("bad totals and counts are refused naming them", () => {
    assert.throws(() => startProgress(-1), /^RangeError: startProgress: total must be an integer in 0\.\.\d+, got -1$/);
    assert.throws(() => startProgress("3" as unknown as number), /^TypeError: startProgress: total must be a number, got string$/);
    const bar = startProgress(2, { enabled: false });
    assert.throws(() => bar.update(3), /^RangeError: Progress.update: done must be an integer in 0\.\.2, got 3$/);
    assert.throws(() => bar.update(1.5), RangeError);
  });
});
