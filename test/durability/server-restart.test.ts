import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { superviseDevServer, type SupervisedDevServer } from '../../src/temporal/dev-server-supervisor.js';
import { freePort } from '../../src/process/free-port.js';
import { createHarness, TEST_SECRET, testConfig, testTemporalCli, type Harness } from '../helpers/harness.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { buildApp } from '../../src/api/serve-app.js';
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { waitFor } from '../helpers/wait-for.js';

describe('the embedded server restarted on the same SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobservice-sqlite-'));
  let server: DevServer | undefined;
  let h: Harness | undefined;
  after(async () => {
    await h?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('still has every job and its stats, a paused queue and the job it holds; a waiting job can still be stopped', async () => {
    const cli = testTemporalCli();
    const port = await freePort();
    const dbFile = join(dir, 'temporal.db');
    server = await startDevServer({ cli, ip: '127.0.0.1', port, dbFile });
    const config = testConfig({ temporal: { address: server.address } });
    h = await createHarness({ config });

    const finished = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-db', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(finished.id, ['Success']);
    const waiting = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-db' },
      metadata: { kind: 'Scheduled', schedule_delay: 3600 },
    });
    assert.equal((await h.request('PUT', '/api/v1/queues/NOOP', { action: 'pause' })).status, 200);
    const held = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } });
    const noopQueue = async () =>
      ((await (await h!.request('GET', '/api/v1/queues')).json()) as { job_type: string; paused: boolean; count: number }[]).find(
        (q) => q.job_type === 'NOOP',
      )!;
    await waitFor(noopQueue, (q) => q.paused && q.count === 1, { what: 'NOOP paused with its job pending' });
    await h.close({ keepJobs: true });
    h = undefined;
    await server.stop();

    server = await startDevServer({ cli, ip: '127.0.0.1', port, dbFile });
    h = await createHarness({ config: { ...config } });
    assert.deepEqual(await h.stats(finished.id), done);
    const still = await h.stats(waiting.id);
    assert.equal(still.status, 'Scheduled');
    assert.equal(still.run_at, waiting.run_at);
    assert.equal((await h.request('POST', `/api/v1/jobs/${waiting.id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(waiting.id, ['Stopped']);
    // The pause is Temporal's: it survived, and still holds the job until resumed.
    const queue = await noopQueue();
    assert.equal(queue.paused, true);
    assert.equal((await h.stats(held.id)).status, 'Pending');
    assert.equal((await h.request('PUT', '/api/v1/queues/NOOP', { action: 'resume' })).status, 200);
    assert.equal((await h.waitForStatus(held.id, ['Success', 'Error'])).status, 'Success');
  });
});

describe('the embedded server, supervised as npm start runs it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobservice-supervised-'));
  let supervised: SupervisedDevServer | undefined;
  let plain: DevServer | undefined;
  let h: Harness | undefined;
  after(async () => {
    await h?.close({ keepJobs: true });
    await plain?.stop();
    await supervised?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('comes back on the same file after kill -9 and accepted jobs finish; when it keeps dying it gives up and the API says 503 with Retry-After', async () => {
    const cli = process.env.TEST_TEMPORAL_CLI!;
    const port = await freePort();
    const dbFile = join(dir, 'temporal.db');
    const lines: string[] = [];
    supervised = await superviseDevServer(
      { cli, ip: '127.0.0.1', port, dbFile },
      { log: (line) => lines.push(line), maxRestarts: 1, windowMs: 600_000, initialBackoffMs: 200 },
    );
    h = await createHarness({ config: testConfig({ temporal: { address: supervised.address } }) });
    const accepted = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-supervised', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Scheduled', schedule_delay: 2 },
    });

    supervised.current().process.kill('SIGKILL');
    await waitFor(
      async () => supervised!.restarts(),
      (n) => n === 1,
      { timeoutMs: 60_000, what: 'the server to be restarted' },
    );
    assert.equal((await h.waitForStatus(accepted.id, ['Success', 'Error'], 60_000)).status, 'Success');
    assert.ok(
      lines.some((l) => /exited \(signal SIGKILL\); restarting/.test(l)),
      `the restart says why: ${lines.join(' | ')}`,
    );

    // npm start's API runs on a native connection (shared with its worker): its errors must map to 503 too.
    const native = await NativeConnection.connect({ address: supervised.address });
    const nativeApp = buildApp(h.config, new Client({ connection: native }), testRegistry());

    // A second death within the window is one too many: the supervisor gives up, for npm start to exit non-zero.
    supervised.current().process.kill('SIGKILL');
    await assert.rejects(supervised.gaveUp, /keeps dying \(1 restarts in the last 600 s\); giving up/);
    const response = await h.request('GET', `/api/v1/jobs/${accepted.id}`);
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '5');
    assert.equal(((await response.json()) as { code: number }).code > 0, true);
    const nativeResponse = await nativeApp.request(`/api/v1/jobs/${accepted.id}`, {
      headers: { authorization: `Harbor-Secret ${TEST_SECRET}` },
    });
    assert.equal(nativeResponse.status, 503);
    assert.equal(nativeResponse.headers.get('retry-after'), '5');
    await native.close();

    // A plain server on the same file lets the harness wind down.
    plain = await startDevServer({ cli, ip: '127.0.0.1', port, dbFile });
    // The harness's connection comes back on its own reconnect schedule (a loaded run once read 503 first).
    const harness = h;
    const back = await waitFor(
      () => harness.request('GET', `/api/v1/jobs/${accepted.id}`),
      (r) => r.status !== 503,
      { timeoutMs: 30_000, what: "the harness's client back on the restarted server" },
    );
    assert.equal(back.status, 200);
    assert.equal((await h.stats(accepted.id)).status, 'Success');
  });
});

describe('the supervisor says why the embedded server does not come back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'supervisor-reason-'));
  let supervised: SupervisedDevServer | undefined;
  after(async () => {
    await supervised?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a restart that fails logs the server’s own last lines (a corrupt file, say), not only that it exited', async () => {
    // The real CLI the first time; afterwards a server that fails as on a corrupt SQLite file.
    const cli = join(dir, 'temporal');
    const marker = join(dir, 'started-once');
    writeFileSync(
      cli,
      `#!/bin/sh\nif [ -e '${marker}' ]; then echo 'unable to open database: database disk image is malformed (11)' >&2; exit 1; fi\ntouch '${marker}'\nexec '${testTemporalCli()}' "$@"\n`,
    );
    chmodSync(cli, 0o755);
    const lines: string[] = [];
    supervised = await superviseDevServer(
      { cli, ip: '127.0.0.1', port: await freePort(), dbFile: join(dir, 'temporal.db') },
      { log: (line) => lines.push(line), maxRestarts: 2, initialBackoffMs: 100, maxBackoffMs: 200 },
    );
    supervised.current().process.kill('SIGKILL');
    const gaveUp = await supervised.gaveUp.then(
      () => 'did not give up',
      (err: Error) => err.message,
    );
    assert.match(lines.join('\n'), /did not come back: .*\n.*malformed/, `logged:\n${lines.join('\n')}\n${gaveUp}`);
  });
});
