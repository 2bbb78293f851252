import type { WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import { StatusHookUrlSchema } from '../api/contract.js';
import type { HookAllowList } from '../hooks/hook-allow-list.js';
import type { JobLogger, SubJobRequest } from '../jobs/job-context.js';
import type { Sealer } from '../secrets/sealer.js';
import { redactText } from '../shared/redact.js';
import { launchJobUpdate } from '../workflows/job-messages.js';
import type { ActivityDeps } from './activity-deps.js';

/** What a run's `ctx.launchJob` works with. */
export interface LaunchContext {
  deps: Pick<ActivityDeps, 'registry'>;
  hookAllowList: HookAllowList;
  /** The running job's workflow, which starts the sub job as its child. */
  handle: WorkflowHandle;
  sealer: Sealer;
  logger: JobLogger;
  /** The run is a short job's (a local activity). */
  isLocal: boolean;
  /** The running job's name. */
  parent: string;
}

/** `ctx.launchJob`: the request checked as a submit would be, then an update to the job's own workflow; the sub job's id. */
export async function launchSubJob(
  { deps, hookAllowList, handle, sealer, logger, isLocal, parent }: LaunchContext,
  request: SubJobRequest,
  /**
   * The launch's place in its revision's run (`launch-<revision>-<n>`): Temporal answers an update
   * whose id it has completed with that update's result, so a run retried after its worker was lost
   * gets the sub jobs its lost attempt launched back, and does not start them again.
   */
  updateId: string,
): Promise<string> {
  // A short run holds its workflow's task until it returns, so the launch (an update to that
  // workflow) could not be handled before the run's cap: say so rather than overrun it.
  if (isLocal) throw new Error(`launchJob: ${parent} is a short job; a job that launches sub jobs cannot be short`);
  const sub = deps.registry.get(request.name);
  if (!sub) throw new Error(`launchJob: no job named ${request.name} is registered`);
  const parameters = request.parameters ?? {};
  const checked = sub.params.safeParse(parameters);
  if (!checked.success) throw new Error(`launchJob: parameters of ${request.name} are invalid: ${z.prettifyError(checked.error)}`);
  const statusHook = request.status_hook || undefined;
  if (statusHook !== undefined) {
    const url = StatusHookUrlSchema.safeParse(statusHook);
    if (!url.success) throw new Error(`launchJob: status_hook ${redactText(statusHook)}: ${z.prettifyError(url.error)}`);
    const refused = await hookAllowList.refuse(statusHook);
    if (refused) throw new Error(`launchJob: status_hook: ${refused}`);
  }
  const id = await explainingUpdateLimit(parent, () =>
    handle.executeUpdate(launchJobUpdate, {
      updateId,
      args: [
        {
          name: request.name,
          // Recorded in the job's history (the update) and the sub job's input: sealed.
          parameters: sealer.sealParameters(parameters),
          ...deps.registry.startPolicy(request.name, parameters),
          ...(sub.fanOut ? { fanOut: true } : {}),
          ...(statusHook !== undefined ? { statusHook: sealer.sealText(statusHook) } : {}),
        },
      ],
    }),
  );
  logger.info(`launched sub job ${request.name} ${id}`);
  return id;
}

/** Temporal's refusal once a workflow run has taken `history.maxTotalUpdates` (2,000) updates. */
const UPDATE_LIMIT = /limit on the total number of distinct updates/i;

/** Whether an error (or one of its causes) is Temporal's refusal of an update past a run's total. */
export function updateLimitReached(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (UPDATE_LIMIT.test(e.message)) return true;
  return false;
}

async function explainingUpdateLimit<T>(parent: string, launch: () => Promise<T>): Promise<T> {
  try {
    return await launch();
  } catch (err) {
    // Every launch is an update to the job's workflow, as its Running report and check-ins are.
    if (!updateLimitReached(err)) throw err;
    throw new Error(
      `launchJob: ${parent} has launched as many sub jobs as one run of a job can (Temporal takes 2,000 updates in a workflow run, its Running report and check-ins included): launch the rest from sub jobs, or make it a batch job (a fan-out)`,
      { cause: err },
    );
  }
}
