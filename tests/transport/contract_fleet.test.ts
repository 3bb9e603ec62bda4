// The transport contract on `fleet`: a private redis-server and three
// worker processes running the remote worker core, restarted when one
// exits (as a supervisor would), since the contract's lost-worker case
// kills each worker that takes its batch.
import { config } from "../../src/config.ts";
import { resolveTransport } from "../../src/execution/transport_registry.ts";
import { type FleetFixture, startFleet } from "../helpers/fleet_setup.ts";
import { describeTransportContract } from "./contract_cases.ts";

let fleet: FleetFixture;

describeTransportContract({
  name: "fleet",
  make: (size) => resolveTransport("fleet", { processes: size }),
  losesWorkers: true,
  async before() {
    fleet = await startFleet({ handler: "core", concurrency: 2, leaseMs: 1000, restart: true });
    config.set({ authkey: "contract-fleet-key-0123456789", fleet: { maxDeliveries: 2 } });
    await Promise.all([1, 2, 3].map(() => fleet.startWorker()));
  },
  async after() {
    await fleet.stop();
  },
});
