import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startClusterOnFreePorts } from '../../src/cluster/cluster-profile.js';
import { runTimes } from './histories.js';
import { pool, until } from './processes.js';
import { percentile, round } from './stats.js';

export interface ClusterScenarioOptions {
  n: number;
  callers: number;
  secret: string;
}

/**
 * The burst on the cluster profile (`npm run cluster`: PostgreSQL, Temporal's four services,
 * two workers, two APIs), callers spread over both APIs; the same metrics as the embedded burst.
 */
export async function clusterScenario(options: ClusterScenarioOptions): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'jobservice-bench-cluster-'));
  chmodSync(dir, 0o755);
  const profile = await startClusterOnFreePorts({
    dir,
    workers: 2,
    apis: 2,
    coreSecret: options.secret,
    log: (line) => console.error(`cluster: ${line}`),
  });
  const connection = await Connection.connect({ address: profile.address });
  const client = new Client({ connection });
  try {
    const headers = { authorization: `Harbor-Secret ${options.secret}`, 'content-type': 'application/json' };
    const body = JSON.stringify({ job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } } });
    const ids: string[] = [];
    const latencies: number[] = [];
    const firstSubmit = Date.now();
    await pool(options.n, options.callers, async (i) => {
      const url = profile.apiUrls[i % profile.apiUrls.length]!;
      const t = performance.now();
      const response = await fetch(`${url}/api/v1/jobs`, { method: 'POST', headers, body });
      if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
      ids.push(((await response.json()) as { job: { id: string } }).job.id);
      latencies.push(performance.now() - t);
    });
    const submitSeconds = (Date.now() - firstSubmit) / 1000;
    const query = `TaskQueue = 'jobservice' AND ExecutionStatus = 'Running'`;
    await until(async () => (await client.workflow.count(query)).count === 0, 600_000, 'the cluster to drain', 500);
    const times = await runTimes(client, ids);
    const toStart = times.map((t) => t.started - t.enqueued);
    const lastClose = Math.max(...times.map((t) => t.closed));
    return {
      n: options.n,
      callers: options.callers,
      apis: profile.apiUrls.length,
      workers: profile.apps.filter((a) => a.role === 'worker').length,
      submit_per_s: round(options.n / submitSeconds),
      submit_p50_ms: round(percentile(latencies, 0.5)),
      submit_p99_ms: round(percentile(latencies, 0.99)),
      enqueue_to_start_p50_ms: round(percentile(toStart, 0.5)),
      enqueue_to_start_p99_ms: round(percentile(toStart, 0.99)),
      completions_per_s: round((times.length * 1000) / (lastClose - firstSubmit)),
    };
  } finally {
    await connection.close();
    await profile.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
