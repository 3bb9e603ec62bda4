// What bench/import_ab.mjs and bench/process_ab.mjs share: sample two
// sides alternately (A then B, then B then A, …), so that the machine's
// load falls on both alike, and print each side's median and the median of
// the per-pair ratios B ÷ A.

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs) {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Runs `once(a)` and `once(b)` once each untimed (page cache, module
 * caches), then `pairs` pairs in alternating order, and prints the figures.
 */
export function pairedAb(pairs, a, b, once) {
  once(a), once(b);
  const as = [], bs = [];
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 0) as.push(once(a)), bs.push(once(b));
    else bs.push(once(b)), as.push(once(a));
  }
  const r = (x) => x.toFixed(1);
  console.log(`A ${a}: median ${r(median(as))} ms (${as.map(r).join(", ")})`);
  console.log(`B ${b}: median ${r(median(bs))} ms (${bs.map(r).join(", ")})`);
  console.log(`B ÷ A, median of ${pairs} pairs: ${median(bs.map((x, i) => x / as[i])).toFixed(3)}`);
}
