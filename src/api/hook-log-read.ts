import { isGrpcServiceError, QueryNotRegisteredError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { HANDOVER_IDS, handoverWorkflowId } from '../shared/hook-event.js';
import { expandInput, type StartInput } from '../shared/start-input.js';
import type { HookRecord, PendingHook } from '../workflows/hook-outbox.js';
import type { HookDeliveryInput } from '../workflows/hook-delivery-workflow.js';
import { hookLogQuery } from '../workflows/job-messages.js';
import { hookView } from '../views/hook-view.js';
import { boundedRpc } from './bounded-rpc.js';
import { startArgument } from './job-reads.js';

const GRPC_FAILED_PRECONDITION = 9;

/** Whose log: a job's workflow carries it in its input's resume, a HookDelivery in its own fields. */
type Carrier = 'job' | 'delivery';

/**
 * The hook log of the job's run and of the HookDelivery workflows its revision handed events to
 * (a second one when a reset re-ran the revision while the first still delivered); the later
 * record of an event wins.
 */
export async function hookLog(client: Client, id: string, revision: number): Promise<HookRecord[]> {
  const handovers = Array.from({ length: HANDOVER_IDS }, (_, i) => handoverWorkflowId(id, revision, i + 1));
  const [own = [], ...handedOver] = await Promise.all([readLog(client, id, 'job'), ...handovers.map((h) => readHandedOver(client, h))]);
  // An event handed over mid-retry is in both: its outcome is the delivery workflow's, its
  // attempts the job's before the hand-over and the delivery workflow's after.
  const byId = new Map<string, HookRecord>(own.map((r) => [r.id, r]));
  for (const records of handedOver) {
    for (const record of records ?? []) {
      const before = byId.get(record.id);
      // In time order: a reset's re-run and the run it replaced may each have tried the event.
      const attempts = before ? [...before.attempts, ...record.attempts].sort((a, b) => a.at - b.at) : record.attempts;
      byId.set(record.id, { ...record, attempts });
    }
  }
  return [...byId.values()];
}

/**
 * A hand-over's log. One an operator terminated (or that timed out) ran no code of its own to say
 * so, and nothing retries what it still owed: that reads `given_up`, not pending for ever.
 */
async function readHandedOver(client: Client, workflowId: string): Promise<HookRecord[] | undefined> {
  const records = await readLog(client, workflowId, 'delivery');
  if (!records?.some((r) => r.outcome === 'pending')) return records;
  const { status } = await boundedRpc(client, () => client.workflow.getHandle(workflowId).describe());
  if (status.name !== 'TERMINATED' && status.name !== 'TIMED_OUT') return records;
  return records.map((r) => (r.outcome === 'pending' ? { ...r, outcome: 'given_up' as const } : r));
}

async function readLog(client: Client, workflowId: string, carrier: Carrier): Promise<HookRecord[] | undefined> {
  try {
    return await boundedRpc(client, () => client.workflow.getHandle(workflowId).query(hookLogQuery));
  } catch (err) {
    // No hand-over happened, or the run predates the log.
    if (err instanceof WorkflowNotFoundError || err instanceof QueryNotRegisteredError) return undefined;
    // Closed before its first workflow task (an operator's terminate right after the start): the
    // server cannot query it, and its start input holds all it ever had.
    const cause = (err as { cause?: unknown }).cause;
    if (isGrpcServiceError(cause) && cause.code === GRPC_FAILED_PRECONDITION) return startedLog(client, workflowId, carrier);
    throw err;
  }
}

/** The hook log a run started with: the log and the events its input carried over. */
async function startedLog(client: Client, workflowId: string, carrier: Carrier): Promise<HookRecord[]> {
  if (carrier === 'delivery') {
    const input = await startArgument<HookDeliveryInput>(client, workflowId);
    return input ? hookView(input.log ?? [], input.events) : [];
  }
  const started = await startArgument<StartInput>(client, workflowId);
  const hooks = started ? expandInput(started).resume?.hooks : undefined;
  return hookView((hooks?.log ?? []) as HookRecord[], (hooks?.events ?? []) as PendingHook[]);
}
