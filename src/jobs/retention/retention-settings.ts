import type { RegistryEndpoint } from '../../registry/registry-client.js';

/** What the worker's configuration gives the registry jobs; credentials live here, never in a job. */
export interface RegistrySettings {
  /** Registries with credentials, found by the URL a job names. */
  registries: RegistryEndpoint[];
  requestTimeoutMs: number;
  /** Defaults of a RETENTION job's `concurrency`. */
  defaults: { repositories: number; deletes: number; deletesPerSecond: number };
  garbageCollection: { command: string[]; storageDir?: string };
}

export const DEFAULT_REGISTRY_SETTINGS: RegistrySettings = {
  registries: [],
  requestTimeoutMs: 30_000,
  defaults: { repositories: 8, deletes: 8, deletesPerSecond: 50 },
  garbageCollection: { command: ['docker-registry', 'garbage-collect', '/etc/docker/registry/config.yml'] },
};

/** The endpoint for a URL a job names: the configured one with its credentials, or the bare URL. */
export function endpointFor(settings: RegistrySettings, url: string): RegistryEndpoint {
  const normal = (u: string) => u.replace(/\/+$/, '');
  return settings.registries.find((r) => normal(r.url) === normal(url)) ?? { url };
}
