// A skypool http worker in a process of its own (tests/helpers/http_worker.ts
// starts it): serves the fetch handler on a free port of 127.0.0.1, prints
// "listening PORT", and stops when its stdin closes (the test runner went
// away) or on SIGTERM.
import process from "node:process";
import { serveHttp } from "../../src/remote/serve.ts";
import { setEmbeddedAllowed } from "../../src/state/redis.ts";

setEmbeddedAllowed(false);
const stop = new AbortController();
process.stdin.on("end", () => stop.abort());
process.stdin.on("error", () => stop.abort());
process.stdin.resume();
process.once("SIGTERM", () => stop.abort());
const { port, closed } = await serveHttp({ port: 0, hostname: "127.0.0.1", signal: stop.signal });
console.log(`listening ${port}`);
await closed;
process.exit(0);
