import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/process/free-port.js';
import { exited } from '../helpers/worker-process.js';
import { waitFor } from '../helpers/wait-for.js';

describe('npm start against a Temporal it did not start (TEMPORAL_ADDRESS names a cluster)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobservice-start-'));
  let child: ChildProcess | undefined;
  after(async () => {
    child?.kill('SIGKILL');
    if (child) await exited(child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('stays up, runs a job, and winds down cleanly on SIGTERM', async () => {
    const address = process.env.TEST_TEMPORAL_ADDRESS;
    assert.ok(address, 'TEST_TEMPORAL_ADDRESS is set by the test runner');
    const port = await freePort();
    const configPath = join(dir, 'start.yaml');
    writeFileSync(
      configPath,
      JSON.stringify({
        port,
        core_secret: 'start-secret-0123456789',
        job_loggers: [{ name: 'FILE', settings: { base_dir: join(dir, 'logs') } }],
        loggers: [{ name: 'STD_OUTPUT', level: 'ERROR' }],
        temporal: { address, task_queue: `start-${Date.now().toString(36)}` },
      }),
    );
    child = spawn(process.execPath, ['--import', 'tsx', 'src/start.ts'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, JOB_SERVICE_CONFIG: configPath },
    });
    const base = `http://127.0.0.1:${port}/api/v1`;
    const headers = { authorization: 'Harbor-Secret start-secret-0123456789', 'content-type': 'application/json' };
    await waitFor(
      () =>
        fetch(`${base}/stats`, { headers }).then(
          (r) => r.status,
          () => 0,
        ),
      (status) => status === 200 || child?.exitCode !== null,
      { timeoutMs: 60_000, what: 'npm start to answer' },
    );
    assert.equal(child.exitCode, null, 'npm start is still running once it answered');
    const submitted = await fetch(`${base}/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } } }),
    });
    assert.equal(submitted.status, 202);
    const { id } = ((await submitted.json()) as { job: { id: string } }).job;
    const done = await waitFor(
      async () => ((await (await fetch(`${base}/jobs/${id}`, { headers })).json()) as { job: { status: string } }).job.status,
      (status) => status === 'Success' || status === 'Error',
      { timeoutMs: 30_000, what: 'the NOOP job to finish' },
    );
    assert.equal(done, 'Success');
    assert.equal(child.exitCode, null, 'still running after the job');
    child.kill('SIGTERM');
    await exited(child);
    assert.equal(child.exitCode, 0);
  });
});
