// The lock suite against a Redis Cluster of 3 masters + 3 replicas.
import "../../helpers/on_cluster.ts";
import "../lock.test.ts";
