import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { pruneExecutions } from '../../src/activities/prune-executions.js';
import { BackgroundWork } from '../../src/process/background-work.js';

/**
 * A Temporal stand-in: one execution X whose run r1 has failed. An API retry of X (a new run r2
 * of the same id, then r1's deletion) lands while deleteOnceClosed lists X's children, after its
 * "is r1 still the current run?" check. A delete without a run id takes the current run.
 */
describe('history limit 0: the ending execution deleted once closed, and a retry of it (a Temporal stand-in: the race cannot be timed on a server)', () => {
  it('deleteOnceClosed deletes only the run that ended, never the retry begun meanwhile', async () => {
    const X = 'aaaaaaaaaaaaaaaaaaaaaaaa-2026-01-01T00:00:00Z';
    const runs = new Map<string, string>([['r1', 'FAILED']]);
    let current = 'r1';
    const deleted: { workflowId: string; runId?: string; took: string }[] = [];
    const retry = () => {
      // JobGateway.retry: start r2 (ALLOW_DUPLICATE), then delete r1 by its run id.
      runs.set('r2', 'RUNNING');
      current = 'r2';
      runs.delete('r1');
    };
    const client = {
      options: { namespace: 'default' },
      withDeadline: (_d: number, fn: () => Promise<unknown>) => fn(),
      workflow: {
        // An empty listing; deleteExecutionAndChildren's query for X's children is when the retry lands.
        list: ({ query }: { query: string }) => ({
          [Symbol.asyncIterator]: () => ({
            next: async () => {
              if (query.includes(`= '${X}'`)) retry();
              return { done: true as const, value: undefined };
            },
          }),
        }),
        getHandle: (_id: string, runId?: string) => ({
          describe: async () => {
            const id = runId ?? current;
            return { runId: id, status: { name: runs.get(id) ?? 'COMPLETED' } };
          },
        }),
      },
      schedule: {
        getHandle: () => ({
          describe: async () => ({ info: { recentActions: [{ action: { workflow: { workflowId: X } }, takenAt: new Date() }] } }),
        }),
      },
      workflowService: {
        deleteWorkflowExecution: async ({ workflowExecution }: { workflowExecution: { workflowId: string; runId?: string } }) => {
          const took = workflowExecution.runId ?? current;
          deleted.push({ ...workflowExecution, took });
          runs.delete(took);
          return {};
        },
      },
    } as unknown as Client;

    const background = new BackgroundWork();
    await pruneExecutions(
      { client, background },
      {
        upstreamJobId: 'aaaaaaaaaaaaaaaaaaaaaaaa',
        self: { id: X, runId: 'r1', startedAt: Date.now() - 1000, succeeded: false },
        limits: { successful: 0, failed: 0 },
      },
    );
    // The deletion once closed, which the activity leaves going.
    await background.idle();
    assert.ok(deleted.length > 0, 'the ending execution was deleted');
    assert.deepEqual(
      deleted.map((d) => d.took),
      ['r1'],
      `deleteWorkflowExecution requests: ${JSON.stringify(deleted)}; the retry r2 is ${runs.has('r2') ? 'still there' : 'gone'}`,
    );
  });
});
