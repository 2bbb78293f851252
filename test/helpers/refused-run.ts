import { randomBytes } from 'node:crypto';
import type { JobInput } from '../../src/shared/job-model.js';
import type { Harness } from './harness.js';

/**
 * A DEMO job's workflow started by hand with parameters DEMO refuses, as a schedule or retry made
 * before a schema change would start it: a real submit's input (a DEMO run to Success first) with
 * the parameters swapped. Returns the new job's id.
 */
export async function startDemoWithRefusedParameters(h: Harness): Promise<string> {
  const model = await h.submit({
    name: 'DEMO',
    parameters: { image: 'demo-model', step_ms: 0, hold_ms: 0 },
    metadata: { kind: 'Generic' },
  });
  await h.waitForStatus(model.id, ['Success']);
  const history = await h.client.workflow.getHandle(model.id).fetchHistory();
  const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  const input = JSON.parse(Buffer.from(payload.data!).toString()) as JobInput;
  const id = randomBytes(12).toString('hex');
  await h.client.workflow.start('GenericJob', {
    workflowId: id,
    taskQueue: h.config.temporal.task_queue,
    args: [{ ...input, id, parameters: { image: 'not-a-demo-image' } }],
  });
  return id;
}
