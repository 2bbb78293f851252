/**
 * `node --import tsx bench/registry-costs.ts [--repos 20]`: what one request of each kind costs a
 * throwaway docker-registry in CPU (read from /proc), 8 in flight, 100 tags per repository. It
 * shows why a retention run that must read before it deletes cannot match a loop of deletes alone.
 */
import { parseArgs } from 'node:util';
import { pushSeries, startRegistry } from '../src/registry/dev-registry.js';
import { RegistryClient } from '../src/registry/registry-client.js';
import { mapLimit } from '../src/process/limits.js';
import { cpuSeconds, round } from './lib/stats.js';

const { values } = parseArgs({ options: { repos: { type: 'string', default: '20' } } });
const repos = Number(values.repos);
const registry = await startRegistry();
try {
  const tags = Array.from({ length: 100 }, (_, i) => ({
    tag: `t${i}`,
    created: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString(),
  }));
  const items: { repo: string; tag: string; digest: string; config?: string }[] = [];
  for (let r = 0; r < repos; r++) {
    const digests = await pushSeries(registry.url, `costs/r${r}`, tags);
    digests.forEach((digest, i) => items.push({ repo: `costs/r${r}`, tag: `t${i}`, digest }));
  }
  const client = new RegistryClient({ url: registry.url }, { timeoutMs: 30_000 });
  const rows: Record<string, number | string>[] = [];
  const measure = async (request: string, fn: (item: (typeof items)[number]) => Promise<unknown>) => {
    const before = cpuSeconds(registry.pid);
    const start = performance.now();
    await mapLimit(items, 8, fn);
    const seconds = (performance.now() - start) / 1000;
    rows.push({
      request,
      n: items.length,
      per_s: round(items.length / seconds),
      registry_cpu_ms_each: round(((cpuSeconds(registry.pid) - before) * 1000) / items.length, 2),
    });
  };
  await measure('GET tags list', (x) => client.tags(x.repo));
  await measure('GET manifest by tag', async (x) => (x.config = (await client.manifest(x.repo, x.tag)).config?.digest));
  await measure('GET config blob', (x) => client.blobJson(x.repo, x.config!));
  await measure('DELETE manifest', (x) => client.deleteManifest(x.repo, x.digest));
  console.table(rows);
  console.log(JSON.stringify({ scenario: 'registry-costs', repositories: repos, rows }));
} finally {
  await registry.stop();
}
