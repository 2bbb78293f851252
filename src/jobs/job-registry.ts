import type { RetryPolicy } from '../shared/job-model.js';
import { RETRY_DEFAULTS, type JobDefinition } from './define-job.js';

export interface JobRegistry {
  get(name: string): JobDefinition | undefined;
  names(): string[];
  retryPolicy(name: string): RetryPolicy;
}

export function createJobRegistry(definitions: readonly JobDefinition[]): JobRegistry {
  const byName = new Map<string, JobDefinition>();
  for (const definition of definitions) {
    if (byName.has(definition.name)) throw new Error(`job ${definition.name} is registered twice`);
    byName.set(definition.name, definition);
  }
  return {
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
  };
}
