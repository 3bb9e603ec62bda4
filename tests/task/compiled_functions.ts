// Task functions that make compilers inject helpers when they lower them:
// compiler_helpers.test.ts compiles this file with tsc and esbuild, imports
// the output and ships each function. Each is self-contained, as a shipped
// function must be; run natively they give the expected results.

/** `async`/`await`: tsc's `__awaiter` (and `__generator` below ES2015), esbuild's `__async`. */
export async function asyncSum(xs: number[]): Promise<number> {
  let sum = 0;
  for (const x of xs) sum += await Promise.resolve(x);
  return sum;
}

/** Object rest and spread, array spread: `__rest`, `__assign`, `__spreadArray` / `__objRest`, `__spreadValues`. */
export function restAndSpread(o: { a: number; b: number; c: number }, ...more: number[]): unknown[] {
  const { a, ...rest } = o;
  const merged = { ...rest, a: a * 10, ...{ d: 4 } };
  return [merged, [...more, ...[a]]];
}

/** A generator used inside the function: `__generator` below ES2015, `__values` / `__read` for `for…of` and destructuring at ES5. */
export function evens(n: number): number[] {
  function* count(k: number) {
    for (let i = 0; i < k; i++) yield i * 2;
  }
  const [first, ...others] = count(n);
  return [first, ...others];
}

/** Named inner functions and classes: esbuild's `keepNames` wraps them in `__name`. */
export const namedInner = (xs: number[]): unknown[] => {
  function double(n: number): number {
    return n * 2;
  }
  const triple = (n: number) => n * 3;
  class Box {
    value = 1;
  }
  return [xs.map(double).map(triple), double.name, triple.name, Box.name, new Box().value];
};

/** Async iteration: `__asyncValues`, `__await`, `__asyncGenerator` below ES2018. */
export async function collect(xs: number[]): Promise<number[]> {
  async function* source() {
    for (const x of xs) yield await Promise.resolve(x + 1);
  }
  const out: number[] = [];
  for await (const x of source()) out.push(x);
  return out;
}

/** Class fields and private fields inside the function: `__classPrivateFieldGet/Set` below ES2022. */
export function counter(n: number): number {
  class Counter {
    #count = 0;
    step = 2;
    bump() {
      this.#count += this.step;
      return this.#count;
    }
  }
  const c = new Counter();
  for (let i = 1; i < n; i++) c.bump();
  return c.bump();
}
