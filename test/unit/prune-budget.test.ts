import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { deleteExecutionAndChildren } from '../../src/activities/delete-execution.js';

/** Just what deleteExecutionAndChildren calls: a list of closed children, and deletes that are counted. */
function standIn(children: number) {
  const deleted: string[] = [];
  const listed = Array.from({ length: children }, (_, i) => ({
    workflowId: `child-${i}`,
    runId: `run-${i}`,
    status: { name: 'COMPLETED' },
  }));
  const client = {
    options: { namespace: 'default' },
    workflow: {
      async *list() {
        yield* listed as unknown as WorkflowExecutionInfo[];
      },
    },
    workflowService: {
      async deleteWorkflowExecution(request: { workflowExecution: { workflowId: string } }) {
        deleted.push(request.workflowExecution.workflowId);
        return {};
      },
    },
  } as unknown as Client;
  return { client, deleted };
}

describe('deleting an execution with its children within a pruner’s time', () => {
  it('deletes the children, then the execution', async () => {
    const { client, deleted } = standIn(20);
    assert.equal(await deleteExecutionAndChildren({ client }, 'exec', Date.now() + 60_000), true);
    assert.equal(deleted.length, 21);
    assert.equal(deleted.at(-1), 'exec', 'the execution goes last');
  });

  it('past its deadline starts no more deletes and keeps the execution for the next pruning', async () => {
    const { client, deleted } = standIn(20);
    assert.equal(await deleteExecutionAndChildren({ client }, 'exec', Date.now() - 1), false);
    assert.deepEqual(deleted, []);
  });
});
