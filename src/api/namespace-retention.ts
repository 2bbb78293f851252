import type { Client } from '@temporalio/client';
import { boundedRpc } from './bounded-rpc.js';

const read = new WeakMap<Client, Promise<number | undefined>>();

/**
 * The namespace's retention in seconds, read once per client: it rarely changes, and what it
 * decides (a finished job's `die_at`, when a stopped periodic job goes) is a forecast either way.
 * A failed read is read again next time.
 */
export function namespaceRetentionSeconds(client: Client): Promise<number | undefined> {
  let answer = read.get(client);
  if (!answer) {
    answer = boundedRpc(client, () => client.workflowService.describeNamespace({ namespace: client.options.namespace })).then(
      (described) => Number(described.config?.workflowExecutionRetentionTtl?.seconds ?? 0) || undefined,
      () => {
        read.delete(client);
        return undefined;
      },
    );
    read.set(client, answer);
  }
  return answer;
}
