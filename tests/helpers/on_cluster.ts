/**
 * Imported first by a test file of `tests/state/cluster/`: the shared-state
 * suite it imports next runs against a Redis Cluster (see `state_setup.ts`).
 * The variable is process-wide and `deno test` runs every file in one
 * process, so `npm run test:deno` runs `tests/state/cluster/` in a
 * `deno test` of its own (Node runs each file in its own process).
 *
 * @module
 */
import process from "node:process";

process.env.SKYPOOL_TEST_REDIS = "cluster";
