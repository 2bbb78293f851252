import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startClusterOnFreePorts } from '../../src/cluster/cluster-profile.js';
import { runTimes } from './histories.js';
import { submitJob } from './api-jobs.js';
import { drained, latencyMetrics, submitAll } from './burst.js';

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
    const job = { name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } };
    // Callers spread over both APIs.
    const { ids, firstSubmit, metrics } = await submitAll(options.n, options.callers, (i) =>
      submitJob(`${profile.apiUrls[i % profile.apiUrls.length]!}/api/v1`, headers, job),
    );
    await drained(client, 'jobservice');
    return {
      ...metrics,
      apis: profile.apiUrls.length,
      workers: profile.apps.filter((a) => a.role === 'worker').length,
      ...latencyMetrics(await runTimes(client, ids), firstSubmit),
    };
  } finally {
    await connection.close();
    await profile.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
