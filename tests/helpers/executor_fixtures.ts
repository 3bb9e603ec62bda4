/**
 * Task functions for the futures API tests. Each is shipped by source, so
 * each is self-contained (parameters, runtime globals, dynamic imports).
 *
 * @module
 */

/** Appends one line to `path` (a count that survives worker deaths), then returns how many lines it has. */
export const countCall = async (path: string): Promise<number> => {
  const fs = await import("node:fs");
  fs.appendFileSync(path, "x\n");
  return fs.readFileSync(path, "utf8").split("\n").length - 1;
};

/** Counts the call in `item.path`; throws while the count is at most `item.failures`. */
export const failTimesThenSucceed = async (item: { path: string; failures: number }): Promise<string> => {
  const fs = await import("node:fs");
  fs.appendFileSync(item.path, "x\n");
  const n = fs.readFileSync(item.path, "utf8").split("\n").length - 1;
  if (n <= item.failures) throw new RangeError(`attempt ${n} fails`);
  return `succeeded on attempt ${n}`;
};

/** Counts the call in `path`; the first call ends its worker process. */
export const dieOnceThenSucceed = async (path: string): Promise<number> => {
  const fs = await import("node:fs");
  fs.appendFileSync(path, "x\n");
  const n = fs.readFileSync(path, "utf8").split("\n").length - 1;
  if (n === 1) process.exit(7);
  return n;
};

/** Waits until the file `gate` exists, then returns `"opened"`. */
export const waitForGate = async (gate: string): Promise<string> => {
  const fs = await import("node:fs");
  while (!fs.existsSync(gate)) await new Promise((r) => setTimeout(r, 20));
  return "opened";
};

/** `x * 2`, but throws a RangeError for `x === 3`. */
export const doubleButNotThree = (x: number): number => {
  if (x === 3) throw new RangeError("three is refused");
  return x * 2;
};

/** The sum of a list of numbers. */
export const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** Reads an environment variable in the worker. */
export const readEnv = (name: string): string | undefined => process.env[name];

/** Sleeps `item.ms` (a timer, so an in-process runner cannot be stopped either), then writes `item.path`. */
export const sleepThenMark = async (item: { ms: number; path: string }): Promise<string> => {
  const fs = await import("node:fs");
  await new Promise((r) => setTimeout(r, item.ms));
  fs.writeFileSync(item.path, "ran to the end");
  return "finished";
};
