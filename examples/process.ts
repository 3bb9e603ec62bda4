// Process: a target in its own worker process, with an exit code.
import { Process } from "../mod.ts";

const ok = new Process({ target: (who: string) => console.log(`hello, ${who}`), args: ["world"] });
ok.start();
await ok.join();
console.log(ok.name, "exitcode", ok.exitcode); // Process-1 exitcode 0

const failing = new Process({
  target: () => {
    throw new RangeError("out of range");
  },
});
failing.start();
await failing.join();
console.log("exitcode", failing.exitcode, failing.error instanceof RangeError); // exitcode 1 true
