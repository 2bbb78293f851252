import { z } from 'zod';
import { isIndex } from '../../registry/manifest.js';
import { registryClient, type RegistrySettings } from '../retention/retention-settings.js';
import { RegistryParam } from '../retention/retention-params.js';
import { defineBatchJob } from './define-batch-job.js';

/**
 * One target per repository of a registry: its tags, the distinct manifests they reach (index
 * children included), and the bytes of the distinct blobs (configs and layers) those reference.
 */
export function repositoryReportJobs(settings: RegistrySettings) {
  return defineBatchJob({
    name: 'REPOSITORY_REPORT',
    params: z.object({ registry: RegistryParam }).strict(),
    metricsPrefix: 'jobservice_registry',
    gauges: [
      { suffix: 'repository_tags', help: 'Tags in the repository', labels: [] },
      { suffix: 'repository_manifests', help: 'Distinct manifests its tags reach, index children included', labels: [] },
      { suffix: 'repository_bytes', help: 'Bytes of the distinct blobs (configs and layers) its manifests reference', labels: [] },
    ],
    async listTargets(ctx, params) {
      return registryClient(settings, params.registry.url, ctx).catalog();
    },
    async runTarget(ctx, params) {
      const registry = registryClient(settings, params.registry.url, ctx);
      try {
        const tags = await registry.tags(ctx.target);
        const seen = new Set<string>();
        const blobs = new Map<string, number>();
        const queue = [...tags];
        while (queue.length > 0) {
          const manifest = await registry.manifest(ctx.target, queue.shift()!);
          if (seen.has(manifest.digest)) continue;
          seen.add(manifest.digest);
          if (isIndex(manifest)) queue.push(...(manifest.manifests ?? []).map((m) => m.digest));
          for (const blob of [...(manifest.config ? [manifest.config] : []), ...(manifest.layers ?? [])])
            blobs.set(blob.digest, blob.size ?? 0);
        }
        const bytes = [...blobs.values()].reduce((a, b) => a + b, 0);
        ctx.report({
          repository_tags: [{ value: tags.length, labels: {} }],
          repository_manifests: [{ value: seen.size, labels: {} }],
          repository_bytes: [{ value: bytes, labels: {} }],
        });
        ctx.logger.info(`${ctx.target}: ${tags.length} tags, ${seen.size} manifests, ${bytes} bytes`);
      } catch (err) {
        if (ctx.opCommand()) return;
        ctx.event('RepositoryUnreadable', `${ctx.target}: ${(err as Error).message}`, { warning: true });
      }
    },
  });
}
