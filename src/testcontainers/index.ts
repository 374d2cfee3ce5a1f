/**
 * rctl/testcontainers: Redis Cluster and Redis Sentinel for tests, in the manner of
 * @testcontainers/redis, formed, checked and faulted by rctl's core. Needs the optional peer
 * dependency `testcontainers`. Semver covers what is exported here.
 *
 * Cleanup: stop() removes everything; a detached watchdog removes what a crashed or killed test
 * process left (containers carry the label io.rctl.session). testcontainers' reaper (Ryuk) is not
 * needed (TESTCONTAINERS_RYUK_DISABLED=true is fine); when it runs, it removes them as well.
 */
export { RedisClusterContainer, StartedRedisClusterContainer, DEFAULT_NODE_TIMEOUT_MS, type ClusterNodeInfo, type StartOptions } from './cluster-container.js';
export { RedisSentinelContainer, StartedRedisSentinelContainer } from './sentinel-container.js';
export { RedisNodeContainer, StartedRedisNode, natMapOf, type RedisNodeOptions } from './node-container.js';
export { DEFAULT_PORT_RANGE, reservePorts, type PortRange, type PortReservation } from './ports.js';
export { LABEL_SESSION, SESSION_ID } from './session.js';
