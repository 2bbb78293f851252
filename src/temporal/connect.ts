import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalTarget } from './connection-options.js';

/** A client for the API and for activities. Fails fast, with the address, when Temporal is unreachable. */
export async function connectClient(target: TemporalTarget): Promise<Client> {
  const connection = await Connection.connect({
    address: target.address,
    tls: target.tls,
    apiKey: target.apiKey,
    // The SDK means to allow 128 MB answers but names the option without grpc-js's `grpc.` prefix,
    // so listings were cut at 4 MB: a fan-out's children with their reports, a page of jobs with
    // large parameters, answered 503. (The native connection has no such limit.)
    channelArgs: { 'grpc.max_receive_message_length': 128 * 1024 * 1024 },
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
