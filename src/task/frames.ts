// TEMPORARY STUB (to be replaced by the WASM framing work): API shape only.

/** Packs encoded items into one batch buffer (offset index + checksum). */
export function packFrames(items: readonly Uint8Array[]): Uint8Array {
  const total = items.reduce((n, it) => n + it.length, 0);
  const out = new Uint8Array(4 + 4 * items.length + total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, items.length, true);
  let off = 4 + 4 * items.length;
  items.forEach((it, i) => {
    dv.setUint32(4 + 4 * i, it.length, true);
    out.set(it, off);
    off += it.length;
  });
  return out;
}

/** Verifies a batch and returns views of its items. */
export function unpackFrames(batch: Uint8Array): Uint8Array[] {
  const dv = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const n = dv.getUint32(0, true);
  const out: Uint8Array[] = [];
  let off = 4 + 4 * n;
  for (let i = 0; i < n; i++) {
    const len = dv.getUint32(4 + 4 * i, true);
    out.push(batch.subarray(off, off + len));
    off += len;
  }
  return out;
}
