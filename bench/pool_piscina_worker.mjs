// Task functions for bench/pool_piscina.ts (piscina runs named exports of
// this module in its worker threads). Plain .mjs: piscina loads it as is.
export const inc = (x) => x + 1;
export const ident = (x) => x;
export default ident;
