import type { Sealer } from '../secrets/sealer.js';
import { targetParameters, type FanOutPlan, type FanOutTarget } from '../shared/fan-out.js';

/** A plan for workflow code from before targetKey (a rolling deploy): every target's parameters said in full. */
export function withFullTargets<P extends Pick<FanOutPlan, 'targets' | 'targetKey'>>(planned: P): P {
  if (!planned.targetKey) return planned;
  const { targetKey: _key, ...rest } = planned;
  return { ...rest, targets: planned.targets.map((t) => ({ target: t.target, parameters: targetParameters(planned, t) })) } as P;
}

/** Temporal's limit on one payload is 2 MB; the result around the plan takes a little. */
const MAX_PLAN_BYTES = 1_900_000;
/** What a target costs the execution's results besides its name: its job id, status and its place in sub_jobs. */
const RESULT_BYTES_PER_TARGET = 80;

/**
 * A plan too large for Temporal is said at once, in words: rather than as the server's "Complete
 * result exceeds size limit", or hours in, as the execution's results (a line per target in its
 * memo as it ends, and in its hand-over to a next run) outgrow its 2 MB.
 */
export function assertPlanFits(plan: FanOutPlan): void {
  const mb = (bytes: number) => (bytes / 1_000_000).toFixed(2);
  const split = 'split the job (its scope, patterns) into smaller ones';
  const carried = plan.targets.reduce((sum, t) => sum + Buffer.byteLength(t.target) + RESULT_BYTES_PER_TARGET, 0);
  if (carried > MAX_PLAN_BYTES) {
    throw new Error(
      `an execution of ${plan.targets.length} targets would carry about ${mb(carried)} MB of per-target results, ` +
        `over the ${MAX_PLAN_BYTES / 1_000_000} MB Temporal takes in one memo or input: ${split}`,
    );
  }
  const bytes = Buffer.byteLength(JSON.stringify(plan));
  if (bytes > MAX_PLAN_BYTES) {
    throw new Error(
      `the plan of ${plan.targets.length} targets is ${mb(bytes)} MB, over the ${MAX_PLAN_BYTES / 1_000_000} MB ` +
        `an activity result may carry in Temporal: ${split}`,
    );
  }
}

/** A plan goes back to the workflow and into every target's input: what its parameters hold secret is sealed. */
export function sealedPlan<P extends { targets: FanOutTarget[]; shared?: Record<string, unknown> }>(planned: P, sealer: Sealer): P {
  if (sealer.keyId === undefined) return planned;
  return {
    ...planned,
    targets: planned.targets.map((t) => (t.parameters ? { ...t, parameters: sealer.sealParameters(t.parameters) } : t)),
    ...(planned.shared ? { shared: sealer.sealParameters(planned.shared) } : {}),
  };
}
