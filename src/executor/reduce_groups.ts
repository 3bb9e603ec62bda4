/**
 * Which map calls feed which reducer in `mapReduce`: all of them, or with
 * `objReduceByKey` one group per object, keyed by the input's `url`.
 *
 * @module
 */

/**
 * The indices of the inputs grouped by their `url` string, groups in order
 * of first appearance, indices in input order.
 *
 * @example
 * ```ts
 * import { groupByUrl } from "./src/executor/reduce_groups.ts";
 * const groups = groupByUrl([{ url: "a" }, { url: "b" }, { url: "a" }], "mapReduce");
 * console.assert(JSON.stringify(groups) === '[[0,2],[1]]');
 * ```
 * @throws {TypeError} naming the first input that has no `url` string.
 */
export function groupByUrl(items: readonly unknown[], what: string): number[][] {
  const groups = new Map<string, number[]>();
  for (let i = 0; i < items.length; i++) {
    const url = (items[i] as { url?: unknown } | null)?.url;
    if (typeof url !== "string") {
      throw new TypeError(`${what}: objReduceByKey groups inputs by their url, but input ${i} has no url string (got ${url === undefined ? "undefined" : typeof url})`);
    }
    let g = groups.get(url);
    if (!g) groups.set(url, g = []);
    g.push(i);
  }
  return [...groups.values()];
}
