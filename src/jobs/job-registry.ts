import type { RetryPolicy } from '../shared/job-model.js';
import type { JobDefinition } from './define-job.js';
import { RETRY_DEFAULTS } from '../shared/start-input.js';
import { QUEUE_GAUGE_SUFFIXES, queueGaugeName } from '../metrics/metric-names.js';

export interface JobRegistry {
  get(name: string): JobDefinition | undefined;
  names(): string[];
  retryPolicy(name: string): RetryPolicy;
  /** Runs of the type allowed at once across the service; undefined: no limit. */
  concurrencyLimit(name: string): number | undefined;
  /** What a job of the type starts with: its retry policy, its limit and its short-job cap, if any. */
  startPolicy(name: string, parameters?: Record<string, unknown>): { retry: RetryPolicy; concurrency?: number; shortCapMs?: number };
}

export interface RegistryOptions {
  /** Configuration's `job.concurrency_limits`: a type's limit over its definition's; 0 lifts it. */
  concurrencyLimits?: Readonly<Record<string, number>>;
}

export function createJobRegistry(definitions: readonly JobDefinition[], options: RegistryOptions = {}): JobRegistry {
  const byName = new Map<string, JobDefinition>();
  for (const definition of definitions) {
    if (byName.has(definition.name)) throw new Error(`job ${definition.name} is registered twice`);
    byName.set(definition.name, definition);
  }
  // Two batch jobs exporting one Prometheus name, or one taking a job queue gauge's, would make
  // every scrape of /metrics ambiguous (one TYPE line per name).
  const metricOwners = new Map<string, string>(QUEUE_GAUGE_SUFFIXES.map((s) => [queueGaugeName(s), 'the job queues'] as const));
  for (const definition of definitions) {
    for (const gauge of definition.batch?.gauges ?? []) {
      const metric = `${definition.batch!.prefix}_${gauge.suffix}`;
      const owner = metricOwners.get(metric);
      if (owner)
        throw new Error(
          `${owner === 'the job queues' ? owner : `jobs ${owner}`} and ${definition.name} both export the gauge ${metric}: give one a metricsPrefix of its own`,
        );
      metricOwners.set(metric, definition.name);
    }
  }
  const overrides = options.concurrencyLimits ?? {};
  const unknown = Object.keys(overrides).filter((name) => !byName.has(name));
  if (unknown.length > 0) {
    throw new Error(
      `job.concurrency_limits names jobs that are not registered: ${unknown.join(', ')} (known: ${[...byName.keys()].sort().join(', ')})`,
    );
  }
  const registry: JobRegistry = {
    get: (name) => byName.get(name),
    names: () => [...byName.keys()].sort(),
    retryPolicy(name) {
      const definition = byName.get(name);
      if (!definition) throw new Error(`unknown job ${name}`);
      return {
        maxFails: definition.maxFails ?? RETRY_DEFAULTS.maxFails,
        shouldRetry: definition.shouldRetry ?? RETRY_DEFAULTS.shouldRetry,
        initialIntervalMs: definition.retryInitialIntervalMs ?? RETRY_DEFAULTS.initialIntervalMs,
        maxIntervalMs: definition.retryMaxIntervalMs ?? RETRY_DEFAULTS.maxIntervalMs,
      };
    },
    concurrencyLimit(name) {
      const limit = overrides[name] ?? byName.get(name)?.maxConcurrency;
      return limit === undefined || limit === 0 ? undefined : limit;
    },
    startPolicy(name, parameters) {
      const concurrency = registry.concurrencyLimit(name);
      const short = byName.get(name)?.short;
      // Short only for parameters that say so; without parameters (a sub job's policy) only if the type always is.
      const parsed = parameters === undefined ? undefined : byName.get(name)!.params.safeParse(parameters);
      const isShort = short !== undefined && (short.applies === undefined || (parsed?.success === true && short.applies(parsed.data)));
      return {
        retry: registry.retryPolicy(name),
        ...(concurrency !== undefined ? { concurrency } : {}),
        ...(isShort ? { shortCapMs: short.capMs } : {}),
      };
    },
  };
  return registry;
}
