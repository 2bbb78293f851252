import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../temporal/dev-server.js';
import { DB_PASSWORD, DB_USER } from './cluster-databases.js';
import { ports, TEMPORAL_SERVICES, type TemporalService } from './cluster-services.js';
import type { TemporalClusterOptions } from './temporal-cluster.js';

export function writeConfig(options: TemporalClusterOptions, dir: string): void {
  const p = ports(options.frontendPort);
  const store = (database: string, maxConns: number) => `
      sql:
        pluginName: "postgres12"
        databaseName: "${database}"
        connectAddr: "127.0.0.1:${options.postgres.port}"
        connectProtocol: "tcp"
        user: "${DB_USER}"
        password: "${DB_PASSWORD}"
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const service = (name: TemporalService) => `
  ${name}:
    rpc:
      grpcPort: ${p[name].grpc}
      membershipPort: ${p[name].membership}
      bindOnLocalHost: true`;
  const yaml = `# Written by npm run cluster; edits are overwritten on the next start.
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${options.historyShards}
  datastores:
    postgres-default:${store('temporal', 20)}
    postgres-visibility:${store('temporal_visibility', 10)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
services:${TEMPORAL_SERVICES.map(service).join('')}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${options.frontendPort}"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "${join(dir, 'config', 'dynamicconfig.yaml')}"
  pollInterval: "10s"
`;
  writeFileSync(join(dir, 'config', 'cluster.yaml'), yaml);
  writeFileSync(join(dir, 'config', 'dynamicconfig.yaml'), dynamicConfigYaml());
}

/**
 * The embedded server's dynamic config, plus what a cluster needs on top: list and count calls
 * (the API's lists, /stats, queues) go through the visibility rate limit, 10/s by default.
 */
function dynamicConfigYaml(): string {
  const values: Record<string, string> = {
    ...DEV_SERVER_DYNAMIC_CONFIG,
    'frontend.namespaceRPS.visibility': '1000',
    'frontend.namespaceBurstRatio.visibility': '2',
  };
  return Object.entries(values)
    .map(([key, value]) => `${key}:\n  - value: ${value}\n`)
    .join('');
}
