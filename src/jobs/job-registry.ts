import type { RetryPolicy } from '../shared/job-model.js';
import type { JobDefinition } from './define-job.js';

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
        maxFails: definition.maxFails ?? 4,
        shouldRetry: definition.shouldRetry ?? true,
        initialIntervalMs: definition.retryInitialIntervalMs ?? 1000,
        maxIntervalMs: definition.retryMaxIntervalMs ?? 300_000,
      };
    },
  };
}
