import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalTarget } from './connection-options.js';

/** A client for the API and for activities. Fails fast, with the address, when Temporal is unreachable. */
export async function connectClient(target: TemporalTarget): Promise<Client> {
  const connection = await Connection.connect({
    address: target.address,
    tls: target.tls,
    apiKey: target.apiKey,
  }).catch((err: Error) => {
    throw new Error(`cannot reach Temporal at ${target.address}: ${err.message}`);
  });
  return new Client({ connection, namespace: target.namespace });
}

export async function connectNative(target: TemporalTarget): Promise<NativeConnection> {
  return NativeConnection.connect({ address: target.address, tls: target.tls, apiKey: target.apiKey }).catch((err: Error) => {
    throw new Error(`cannot reach Temporal at ${target.address}: ${err.message}`);
  });
}
