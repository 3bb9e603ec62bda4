/**
 * Imported first by a test file of `tests/state/cluster/`: the shared-state
 * suite it imports next runs against a Redis Cluster (see `state_setup.ts`).
 *
 * @module
 */
import process from "node:process";

process.env.SKYPOOL_TEST_REDIS = "cluster";
