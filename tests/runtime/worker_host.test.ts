import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { connectToParent, ppid } from "../../src/runtime/worker_host.ts";

function scratch(): { dir: string; path: string; done: () => void } {
  const dir = mkdtempSync(`${tmpdir()}/skypool-wh-`);
  return { dir, path: `${dir}/w.sock`, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test("a worker reaches a parent that starts listening after the worker tried: it waits for the socket", async () => {
  const { path, done } = scratch();
  const server = createServer();
  const accepted: Socket[] = [];
  try {
    const gotHello = new Promise<string>((resolve) => {
      server.on("connection", (s: Socket) => {
        accepted.push(s);
        s.once("data", (d) => {
          resolve(String(d));
          s.write("back");
        });
      });
    });
    const received: string[] = [];
    let echoed!: () => void;
    const echo = new Promise<void>((r) => echoed = r);
    let closed!: () => void;
    const parentClosed = new Promise<void>((r) => closed = r);
    // Nobody listens yet: the first tries find no socket file.
    const linking = connectToParent(path, ppid(), (chunk) => {
      received.push(new TextDecoder().decode(chunk));
      echoed();
    }, () => closed());
    await new Promise((r) => setTimeout(r, 120));
    server.listen(path);
    const link = await linking;
    link.write(new TextEncoder().encode("hello"));
    assert.equal(await gotHello, "hello");
    await echo;
    assert.deepEqual(received, ["back"]);
    // The parent's end going away reaches the worker (and frees its socket).
    for (const s of accepted) s.destroy();
    await parentClosed;
  } finally {
    for (const s of accepted) s.destroy();
    server.close();
    done();
  }
});

test("a worker whose parent is gone does not wait for its socket", async () => {
  const { path, done } = scratch();
  try {
    const t0 = performance.now();
    // Not our parent's pid: as if the parent had died (ppid changed).
    await assert.rejects(connectToParent(path, ppid() + 1_000_000, () => {}, () => {}));
    assert.ok(performance.now() - t0 < 5_000, "gave up at once, not after the patience");
  } finally {
    done();
  }
});
