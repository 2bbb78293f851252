import { DEFAULT_RETRY_POLICY, RegistryClient, type RegistryEndpoint, type RetryPolicy } from '../../registry/registry-client.js';

/** What the worker's configuration gives the registry jobs; credentials live here, never in a job. */
export interface RegistrySettings {
  /** Registries with credentials, found by the URL a job names. */
  registries: RegistryEndpoint[];
  requestTimeoutMs: number;
  /** How a request is repeated when the registry pushes back (429, 503, …). */
  retry: RetryPolicy;
  /** Defaults of a RETENTION job's `concurrency`. */
  defaults: { repositories: number; deletes: number; deletesPerSecond: number };
  garbageCollection: { command: string[]; storageDir?: string };
}

export const DEFAULT_REGISTRY_SETTINGS: RegistrySettings = {
  registries: [],
  requestTimeoutMs: 30_000,
  retry: DEFAULT_RETRY_POLICY,
  defaults: { repositories: 8, deletes: 8, deletesPerSecond: 50 },
  garbageCollection: { command: ['docker-registry', 'garbage-collect', '/etc/docker/registry/config.yml'] },
};

/** The endpoint for a URL a job names: the configured one with its credentials, or the bare URL. */
export function endpointFor(settings: RegistrySettings, url: string): RegistryEndpoint {
  const normal = (u: string) => u.replace(/\/+$/, '');
  return settings.registries.find((r) => normal(r.url) === normal(url)) ?? { url };
}

/** A job's client for the registry a URL names: configured credentials, timeout and retries; retries go to the job's log. */
export function registryClient(
  settings: RegistrySettings,
  url: string,
  job: { signal: AbortSignal; stopGraceMs?: number; logger: { warning(message: string): void } },
): RegistryClient {
  return new RegistryClient(endpointFor(settings, url), {
    timeoutMs: settings.requestTimeoutMs,
    signal: job.signal,
    // A quarter of the stop grace, at most 5 s: the stopped run must still return, and report, in it.
    deleteAnswerMs: Math.min(5_000, (job.stopGraceMs ?? 10_000) / 4),
    retry: settings.retry,
    onRetry: (message) => job.logger.warning(`the registry pushed back: ${message}`),
  });
}
