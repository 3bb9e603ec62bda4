/**
 * `skypool serve [--port N] [--host ADDR]`: a worker endpoint for the
 * `http` transport. It serves the fetch handler (`skypool/fetch`) over
 * `node:http` (Node) or `Deno.serve` (Deno) until SIGINT or SIGTERM, and
 * refuses to start without `SKYPOOL_AUTHKEY`.
 *
 * @module
 */
import { Command, InvalidArgumentError } from "npm:commander@^14.0.3";
import process from "node:process";
import { requireRemoteAuthkey } from "../remote/envelope.ts";
import { serveHttp } from "../remote/serve.ts";
import { setEmbeddedAllowed } from "../state/redis.ts";

function portOf(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new InvalidArgumentError("expected a port number in 0..65535");
  return port;
}

/**
 * The `serve` command.
 *
 * @example
 * ```ts
 * import { serveCommand } from "./src/cli/serve_command.ts";
 * console.assert(serveCommand().name() === "serve");
 * ```
 */
export function serveCommand(): Command {
  return new Command("serve")
    .summary("serve a worker endpoint for the http transport")
    .description(
      "Run batches POSTed by the http transport (SKYPOOL_TRANSPORT=http, SKYPOOL_HTTP_URL=http://this-host:PORT/) " +
        "until SIGINT or SIGTERM. SKYPOOL_AUTHKEY must hold the callers' key; handles need a Redis both sides reach " +
        "(SKYPOOL_REDIS_URL).",
    )
    .option("-p, --port <port>", "the TCP port to listen on", portOf, 8080)
    .option("--host <address>", "the address to listen on", "0.0.0.0")
    .action(async (flags: { port: number; host: string }, cmd: Command) => {
      requireRemoteAuthkey("skypool serve");
      // Tasks run here; a handle they make must use the shared Redis, never a private one.
      setEmbeddedAllowed(false);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        const { port, closed } = await serveHttp({ port: flags.port, hostname: flags.host, signal: stop.signal });
        const write = cmd.configureOutput().writeOut ?? ((s: string) => void process.stdout.write(s));
        write(`skypool serve: listening on http://${flags.host}:${port}/\n`);
        await closed;
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
