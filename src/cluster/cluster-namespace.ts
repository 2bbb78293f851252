import { spawnSync } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { JOB_SEARCH_ATTRIBUTES } from '../shared/search-attributes.js';
import { registerSearchAttributes } from '../temporal/register-search-attributes.js';
import { pollUntil } from '../process/poll-until.js';
import type { TemporalClusterOptions } from './temporal-cluster.js';

/** The namespace, registered once; the frontend may need a moment before it knows a new one. */
export async function ensureNamespace(address: string, options: TemporalClusterOptions): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const known = async () => {
      try {
        await connection.workflowService.describeNamespace({ namespace: options.namespace });
        return true;
      } catch {
        return false;
      }
    };
    if (!(await known())) {
      options.log(`registering namespace ${options.namespace}`);
      // The operator's own tool, as a human would: the proto's int64 retention needs no Long here.
      const result = spawnSync(
        options.cli,
        [
          'operator',
          'namespace',
          'create',
          '--namespace',
          options.namespace,
          '--retention',
          `${options.retentionDays * 24}h`,
          '--address',
          address,
        ],
        { encoding: 'utf8' },
      );
      if (result.status !== 0 && !/already/i.test(result.stderr + result.stdout)) {
        throw new Error(`could not register namespace ${options.namespace}: ${result.stderr || result.stdout}`);
      }
    }
    await pollUntil(known, { timeoutMs: 60_000, timeoutMessage: () => `namespace ${options.namespace} did not become visible` });
  } finally {
    await connection.close();
  }
}

/**
 * The job search attributes, registered and usable: on SQL visibility a new attribute reaches the
 * frontend's namespace cache a few seconds after it is added, and a start naming it fails until then.
 */
export async function ensureSearchAttributes(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  try {
    let last: unknown;
    await pollUntil(
      async () => {
        try {
          // The operator service's namespace cache may not know a namespace registered a moment ago.
          await registerSearchAttributes(client);
          const probe = await client.workflow.start('JobserviceSearchAttributeProbe', {
            taskQueue: 'jobservice-probe',
            workflowId: `jobservice-probe-${Date.now()}`,
            typedSearchAttributes: JOB_SEARCH_ATTRIBUTES.map((key) =>
              key.type === 'DATETIME' ? { key, value: new Date() } : { key, value: 'probe' },
            ) as SearchAttributePair[],
          });
          await probe.terminate('search attributes are usable');
          return true;
        } catch (err) {
          last = err;
          return false;
        }
      },
      { timeoutMs: 60_000, timeoutMessage: () => `job search attributes not usable after 60 s: ${(last as Error | undefined)?.message}` },
    );
  } finally {
    await connection.close();
  }
}
