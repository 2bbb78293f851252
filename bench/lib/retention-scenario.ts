import { pushSeries, startRegistry } from '../../src/registry/dev-registry.js';
import { startRegistryProxy } from '../../src/registry/registry-proxy.js';
import { RegistryClient } from '../../src/registry/registry-client.js';
import { mapLimit } from '../../src/process/limits.js';
import { loadCandidates } from '../../src/retention/load-candidates.js';
import { PolicySchema } from '../../src/retention/policy-schema.js';
import { decide } from '../../src/retention/select.js';
import { finalStatus, submitJob } from './api-jobs.js';
import { pool } from './processes.js';
import { cpuSeconds } from './stats.js';

export interface RetentionScenarioOptions {
  base: string;
  headers: Record<string, string>;
  repositories: number;
  tags: number;
  keep: number;
  deletes: number;
}

/**
 * RETENTION over R repositories × T tags keeping K each, with D deletes in flight, beside two
 * loops without Temporal against the same registry in the same run: the same deletes alone at the
 * same concurrency (digests known in advance), and the same work (reads, decision, deletes) as the
 * repository jobs do it. A proxy in front of the registry counts the deletes in flight.
 */
export async function retentionScenario(o: RetentionScenarioOptions): Promise<Record<string, number | string>> {
  const registry = await startRegistry();
  const proxy = await startRegistryProxy(registry.url);
  try {
    const tags = Array.from({ length: o.tags }, (_, i) => ({
      tag: `t${i}`,
      created: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString(),
    }));
    const pushStart = Date.now();
    const plain: { repo: string; digests: string[] }[] = [];
    await pool(o.repositories, 4, async (r) => {
      await pushSeries(registry.url, `ret/r${r}`, tags);
      await pushSeries(registry.url, `work/r${r}`, tags);
      plain.push({ repo: `plain/r${r}`, digests: await pushSeries(registry.url, `plain/r${r}`, tags) });
    });
    const pushSeconds = (Date.now() - pushStart) / 1000;
    const expected = o.repositories * (o.tags - o.keep);

    // The plain loop: the same deletes (the oldest T−K of each repository), D at a time, digests known in advance.
    const doomed = plain.flatMap(({ repo, digests }) => digests.slice(0, o.tags - o.keep).map((digest) => ({ repo, digest })));
    const policy = {
      algorithm: 'or',
      rules: [
        {
          action: 'retain',
          template: 'latestPushedK',
          params: { latestPushedK: o.keep },
          tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: '**' }],
        },
      ],
    };
    // The registry's own CPU per phase: what its reads cost beside its deletes, on the same machine.
    const registryCpu = () => cpuSeconds(registry.pid);
    let cpuAt = registryCpu();
    const phaseCpu = () => {
      const now = registryCpu();
      const spent = now - cpuAt;
      cpuAt = now;
      return spent;
    };
    const plainStart = performance.now();
    await mapLimit(doomed, o.deletes, async ({ repo, digest }) => {
      const response = await fetch(`${proxy.url}/v2/${repo}/manifests/${digest}`, { method: 'DELETE' });
      if (response.status !== 202) throw new Error(`plain delete answered ${response.status}`);
    });
    const plainSeconds = (performance.now() - plainStart) / 1000;
    const plainCpu = phaseCpu();
    const plainPeak = proxy.peakDeletesInFlight;
    proxy.resetCounts();

    // The same work without Temporal: per repository the repository job's own reads, decision and
    // deletes, as many repositories at once as RETENTION runs, each with its share of the deletes.
    const parallel = Math.min(o.repositories, o.deletes);
    const share = Math.floor(o.deletes / parallel);
    const client = new RegistryClient({ url: proxy.url }, { timeoutMs: 30_000 });
    const rules = PolicySchema.parse(policy).rules;
    const workStart = performance.now();
    await mapLimit(
      Array.from({ length: o.repositories }, (_, r) => `work/r${r}`),
      parallel,
      async (repo) => {
        const decisions = decide(rules, await loadCandidates(client, repo, 8), Math.floor(Date.now() / 1000));
        await mapLimit(
          decisions.filter((d) => d.verdict === 'DEL'),
          share,
          async (d) => {
            await client.deleteManifest(repo, d.candidate.digest);
          },
        );
      },
    );
    const workSeconds = (performance.now() - workStart) / 1000;
    const workDeleted = proxy.deletes.filter((d) => d.status === 202).length;
    if (workDeleted !== expected) throw new Error(`the plain retention loop deleted ${workDeleted} of ${expected}`);
    const workCpu = phaseCpu();
    proxy.resetCounts();

    const start = performance.now();
    phaseCpu();
    const id = await submitJob(o.base, o.headers, {
      name: 'RETENTION',
      parameters: {
        registry: { url: proxy.url },
        scope: { repository_patterns: ['ret/*'] },
        policy,
        concurrency: { deletes: o.deletes, deletes_per_second: 0 },
      },
      metadata: { kind: 'Generic' },
    });
    const status = await finalStatus(o.base, o.headers, id, 1_800_000);
    const seconds = (performance.now() - start) / 1000;
    const retentionCpu = phaseCpu();
    const reads = proxy.reads;
    const deleted = proxy.deletes.filter((d) => d.status === 202).length;
    if (status !== 'Success' || deleted !== expected) throw new Error(`RETENTION ended ${status} with ${deleted} of ${expected} deletes`);
    const deletesPerSecond = deleted / seconds;
    const plainPerSecond = doomed.length / plainSeconds;
    return {
      repositories: o.repositories,
      tags_per_repository: o.tags,
      keep: o.keep,
      deletes_in_flight_limit: o.deletes,
      fixture_push_s: round(pushSeconds),
      retention_wall_s: round(seconds),
      retention_deletes: deleted,
      retention_deletes_per_s: round(deletesPerSecond),
      retention_peak_in_flight: proxy.peakDeletesInFlight,
      plain_loop_s: round(plainSeconds),
      plain_loop_deletes_per_s: round(plainPerSecond),
      plain_loop_peak_in_flight: plainPeak,
      retention_to_plain_ratio: round(deletesPerSecond / plainPerSecond),
      plain_retention_loop_s: round(workSeconds),
      plain_retention_loop_deletes_per_s: round(expected / workSeconds),
      retention_to_plain_retention_loop_ratio: round(deletesPerSecond / (expected / workSeconds)),
      // Where the registry's time goes: CPU seconds it spent in each phase, per delete, and the reads
      // RETENTION needed (a tag list per repository, a manifest and a config blob per tag).
      registry_cpu_plain_loop_s: round(plainCpu),
      registry_cpu_plain_retention_loop_s: round(workCpu),
      registry_cpu_retention_s: round(retentionCpu),
      registry_cpu_ms_per_delete_plain_loop: round((plainCpu * 1000) / doomed.length),
      registry_cpu_ms_per_delete_retention: round((retentionCpu * 1000) / deleted),
      retention_reads: reads,
      // The share of the registry's CPU in RETENTION that the deletes alone would have cost: the most a
      // run that must read before it deletes can reach against the deletes-only loop when the registry is the bottleneck.
      registry_bound_ratio: round(plainCpu / retentionCpu),
    };
  } finally {
    await proxy.close();
    await registry.stop();
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
