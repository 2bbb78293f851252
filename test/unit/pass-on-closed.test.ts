import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { JobGateway } from '../../src/api/job-gateway.js';
import { OpCommand } from '../../src/shared/job-model.js';
import { createJobRegistry } from '../../src/jobs/job-registry.js';
import { TIMING_DEFAULTS } from '../../src/shared/start-input.js';

describe('a stop of a job terminated after it had ended by itself (a Temporal stand-in: its workflow kept open for hooks)', () => {
  it('a job that ended Success by itself, then terminated while delivering hooks: a stop leaves its sub jobs alone', async () => {
    const id = 'aaaaaaaaaaaaaaaaaaaaaaaa';
    const signalled: string[] = [];
    const client = {
      options: { namespace: 'default', loadedDataConverter: { payloadConverter: { fromPayload: (p: unknown) => p } } },
      withDeadline: (_d: number, fn: () => Promise<unknown>) => fn(),
      workflow: {
        list: () => ({
          async *[Symbol.asyncIterator]() {
            yield { workflowId: 'bbbbbbbbbbbbbbbbbbbbbbbb' };
          },
        }),
        getHandle: (wid: string) => ({
          describe: async () => ({
            workflowId: wid,
            runId: 'r1',
            type: 'GenericJob',
            startTime: new Date(),
            closeTime: new Date(),
            status: { name: 'TERMINATED' },
            memo: {
              input: { id, name: 'NOOP', kind: 'Generic', parameters: {}, unique: false, enqueueTime: 1000, revision: 1000 },
              state: { status: 'Success', revision: 1000, update_time: 1001, fails: 0, sub_jobs: ['bbbbbbbbbbbbbbbbbbbbbbbb'] },
            },
            raw: { pendingActivities: [], pendingChildren: [] },
          }),
          signal: async () => {
            signalled.push(wid);
          },
        }),
      },
      workflowService: { describeNamespace: async () => ({ config: { workflowExecutionRetentionTtl: { seconds: 86400 } } }) },
    } as unknown as Client;
    const gateway = new JobGateway({ client, taskQueue: 'q', registry: createJobRegistry([]), timings: { ...TIMING_DEFAULTS } as never });
    const stats = await gateway.stats(id);
    assert.equal(stats.status, 'Success');
    await gateway.command(id, OpCommand.Stop, stats);
    assert.deepEqual(signalled, [], 'a stop of a Success job signalled its sub jobs');
  });
});
