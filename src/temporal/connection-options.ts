import { readFileSync } from 'node:fs';
import type { Config } from '../config/config-schema.js';

export interface TemporalTarget {
  address: string;
  namespace: string;
  taskQueue: string;
  tls?: {
    clientCertPair?: { crt: Buffer; key: Buffer };
    serverRootCACertificate?: Buffer;
    serverNameOverride?: string;
  };
  apiKey?: string;
}

/** Connection settings for a cluster (or the embedded server at `address`). Reads TLS files once. */
export function temporalTarget(config: Config, address = config.temporal.address): TemporalTarget {
  if (!address) throw new Error('no Temporal address: set TEMPORAL_ADDRESS or temporal.address');
  const t = config.temporal;
  const target: TemporalTarget = { address, namespace: t.namespace, taskQueue: t.task_queue };
  if (t.tls) {
    target.tls = {};
    if (t.tls.client_cert && t.tls.client_key) {
      target.tls.clientCertPair = { crt: readFileSync(t.tls.client_cert), key: readFileSync(t.tls.client_key) };
    }
    if (t.tls.server_ca_cert) target.tls.serverRootCACertificate = readFileSync(t.tls.server_ca_cert);
    if (t.tls.server_name) target.tls.serverNameOverride = t.tls.server_name;
  }
  if (t.api_key) {
    target.apiKey = t.api_key;
    // Cloud API keys need TLS; an empty TLS object means "system roots".
    target.tls ??= {};
  }
  return target;
}
