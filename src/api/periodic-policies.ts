import type { Client, ScheduleDescription } from '@temporalio/client';
// The SDK's own encoding of search attributes for a raw request (its schedule client uses it).
import { NO_SEALING, withSecrets } from '../secrets/sealer.js';
import { canonicalJson } from '../shared/canonical-json.js';
import { JobKind, JobStatus, MEMO_INPUT, type JobInput } from '../shared/job-model.js';
import { JobKindKey, JobTaskQueueKey } from '../shared/search-attributes.js';
import { compactInput, expandInput, type StartInput } from '../shared/start-input.js';
import { boundedRpc } from './bounded-rpc.js';
import type { PeriodicGatewayDeps } from './periodic-gateway.js';
import { isStopped, MEMO_PERIODIC, scheduleSearchAttributes, type PeriodicOptions, type PeriodicRecord } from './periodic-record.js';
import { nextFireNeverWaitsOnHooks } from './periodic-spec.js';
import { liveOptions } from './periodic-stats.js';
import { writeUnderToken } from '../temporal/schedule-write.js';

/** The fields of an execution's input its job type and the deployment decide (refreshPolicies), its memo's too. */
const POLICY_FIELDS = ['concurrency', 'shortCapMs', 'fanOut', 'abandonOnCancel'] as const;

/**
 * A schedule starts every execution with the input it was created with, and that input carries
 * what the deployment decides rather than the job: the timings (`job.max_run_hours`, the stop
 * grace, hook retries), the type's retry policy, limit, short-job cap and fan-out. Harbor core's
 * schedules (GC, retention, scan-all) live for years: as an API process starts, every periodic
 * job of its task queue whose schedule says otherwise than today's configuration and job types
 * is updated to say the same (the job's own parameters, hook, limits and options untouched, but
 * for secrets sealed under a key that is no longer the first: sealed again under today's). A
 * schedule made before schedules carried their task queue (`JobTaskQueue`) gets it then, so other
 * deployments sharing the namespace stop listing it. Returns the schedules updated; one that
 * cannot be read or updated is left for the next start.
 */
export async function refreshPolicies(deps: PeriodicGatewayDeps, signal?: AbortSignal): Promise<number> {
  const { client, registry, taskQueue } = deps;
  let updated = 0;
  for await (const summary of client.schedule.list({ query: `${JobKindKey.name} = '${JobKind.Periodic}'` })) {
    if (signal?.aborted) break;
    const record = summary.memo?.[MEMO_PERIODIC] as PeriodicRecord | undefined;
    if (!record || !registry.get(record.name)) continue;
    try {
      const description = await boundedRpc(client, () => client.schedule.getHandle(summary.scheduleId).describe());
      const { action } = description;
      const started = action.type === 'startWorkflow' ? (action.args?.[0] as StartInput | undefined) : undefined;
      // A stopped job never fires again: left as it was stopped (an update would move its die_at).
      if (action.type !== 'startWorkflow' || action.taskQueue !== taskQueue || !started?.name || isStopped(description)) continue;
      const fresh = todaysPolicies(deps, started, liveOptions(record.options, description));
      const unclaimed = !description.typedSearchAttributes?.get(JobTaskQueueKey);
      if (!unclaimed && canonicalJson(fresh) === canonicalJson(started)) continue;
      const claim = unclaimed ? { name: record.name, taskQueue } : undefined;
      if (await replaceExecutionInput(client, summary.scheduleId, description, fresh, claim)) updated += 1;
    } catch {
      // Left as it is until the next start (a schedule deleted meanwhile, sealed with a key this process lacks).
    }
  }
  return updated;
}

/**
 * The schedule as described, with only its executions' input (and the policy fields of their
 * memo) replaced, written back under the description's conflict token: a stop, pause or
 * operator's update that lands meanwhile wins, and the scheduler drops this write rather than
 * put back the schedule's state as it was read (the SDK's update sends no token). With `claim`,
 * the schedule's search attributes become a (not stopped) periodic job's of that task queue. False
 * when the request itself failed.
 */
export async function replaceExecutionInput(
  client: Client,
  scheduleId: string,
  description: ScheduleDescription,
  fresh: StartInput,
  claim?: { name: string; taskQueue: string },
): Promise<boolean> {
  const { raw } = description;
  const start = raw.schedule?.action?.startWorkflow;
  if (!raw.schedule || !start) return false;
  const converter = client.options.loadedDataConverter.payloadConverter;
  const fields = { ...(start.memo?.fields ?? {}) };
  const shownPayload = fields[MEMO_INPUT];
  if (shownPayload) {
    const shown = { ...converter.fromPayload<Record<string, unknown>>(shownPayload) };
    const policy = fresh as Record<string, unknown>;
    for (const key of POLICY_FIELDS) {
      if (policy[key] === undefined) delete shown[key];
      else shown[key] = policy[key];
    }
    fields[MEMO_INPUT] = converter.toPayload(shown);
  }
  try {
    await writeUnderToken(
      client,
      scheduleId,
      description,
      { ...raw.schedule, action: { startWorkflow: { ...start, input: { payloads: [converter.toPayload(fresh)] }, memo: { fields } } } },
      claim && scheduleSearchAttributes(claim.name, JobStatus.Scheduled, claim.taskQueue),
    );
    return true;
  } catch {
    // Gone, or the server refused: the next start looks again.
    return false;
  }
}

/** An execution input with today's deployment-wide values (see refreshPolicies). */
function todaysPolicies(deps: PeriodicGatewayDeps, started: StartInput, options: Record<string, unknown>): StartInput {
  const { registry, timings } = deps;
  const sealer = deps.sealer ?? NO_SEALING;
  const input = expandInput(started) as JobInput;
  const { retry, concurrency, shortCapMs } = registry.startPolicy(input.name, sealer.unsealParameters(input.parameters));
  const next: JobInput = {
    // Sealed under a key that is no longer the first (a rotation), or not at all: sealed under today's.
    ...withSecrets(input, sealer.resealParameters, sealer.resealText),
    retry,
    timings: nextFireNeverWaitsOnHooks(timings, {
      concurrency_policy: options.concurrency_policy as PeriodicOptions['concurrency_policy'],
    }),
  };
  for (const key of POLICY_FIELDS) delete next[key];
  if (concurrency !== undefined) next.concurrency = concurrency;
  if (shortCapMs !== undefined) next.shortCapMs = shortCapMs;
  if (registry.get(input.name)?.fanOut) next.fanOut = true;
  if (options.concurrency_policy === 'Replace') next.abandonOnCancel = true;
  return compactInput(next);
}
