/**
 * The permission flags of a Deno worker: the parent's, never more. Deno
 * cannot list what a partial grant covers (`--allow-read=/data`), only say
 * whether a given resource is granted; so a permission granted in full is
 * passed on in full, and of one granted in part the worker gets the
 * resources it is known to need (its socket folder, skypool's own modules,
 * the working directory, the Redis server), each only if the parent holds
 * it. Workers never prompt: they have no terminal to ask on.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
declare const Deno: any;

/** Every kind of Deno permission, each granted by `--allow-<name>`. */
const NAMES = ["read", "write", "net", "env", "sys", "run", "ffi", "import"] as const;

/** Resources a worker needs, per permission: paths for read/write, `host:port` for net. */
export type WorkerNeeds = Partial<Record<(typeof NAMES)[number], string[]>>;

/** The key a resource is queried under, per permission. */
const RESOURCE_KEY: Partial<Record<(typeof NAMES)[number], string>> = { read: "path", write: "path", net: "host" };

function granted(name: string, resource?: [string, string]): boolean {
  const descriptor: Record<string, string> = { name };
  if (resource) descriptor[resource[0]] = resource[1];
  return Deno.permissions.querySync(descriptor).state === "granted";
}

/**
 * The `deno run` flags that give a worker this process's permissions, or
 * less: `--allow-<name>` for each permission held in full, and for each
 * held in part `--allow-<name>=<list>` of those of `needs` it holds.
 */
export function workerPermissionFlags(needs: WorkerNeeds): string[] {
  const flags = ["--no-prompt"];
  for (const name of NAMES) {
    if (granted(name)) {
      flags.push(`--allow-${name}`);
      continue;
    }
    const key = RESOURCE_KEY[name];
    // A comma would split the flag's list.
    const held = key ? (needs[name] ?? []).filter((r) => !r.includes(",") && granted(name, [key, r])) : [];
    if (held.length > 0) flags.push(`--allow-${name}=${[...new Set(held)].join(",")}`);
  }
  return flags;
}
