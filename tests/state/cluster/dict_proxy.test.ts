// The dict_proxy suite against a Redis Cluster of 3 masters + 3 replicas.
import "../../helpers/on_cluster.ts";
import "../dict_proxy.test.ts";
