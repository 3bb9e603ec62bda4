// The transport contract on the transports that need nothing started:
// `inline` (in the caller) and `local` (worker processes of this machine).
import { resolveTransport } from "../../src/execution/transport_registry.ts";
import { describeTransportContract } from "./contract_cases.ts";

describeTransportContract({ name: "inline", make: () => resolveTransport("inline", {}), losesWorkers: false });
describeTransportContract({ name: "local", make: (size) => resolveTransport("local", { processes: size }), losesWorkers: true });
