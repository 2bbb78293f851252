import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { createHarness, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { exited, spawnWorkerProcess } from '../helpers/worker-process.js';

describe('a worker killed with SIGKILL mid-job', () => {
  let h: Harness;
  const children: ChildProcess[] = [];
  before(async () => {
    h = await createHarness({ worker: false });
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await h.close();
  });

  it('loses nothing: after a new worker starts, the job finishes and its stats are intact', async () => {
    const first = spawnWorkerProcess(h.config, h.logDir);
    children.push(first);
    const submitted = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-crash', step_ms: 2000, hold_ms: 500 },
      metadata: { kind: 'Generic' },
    });
    const running = await waitFor(
      () => h.stats(submitted.id),
      (s) => s.status === 'Running' && s.check_in === '30%',
      {
        timeoutMs: 60_000,
        what: 'the job to run on the first worker',
      },
    );
    first.kill('SIGKILL');
    await exited(first);
    // With no worker, the job is still readable and still Running (nobody has said otherwise).
    assert.equal((await h.stats(submitted.id)).status, 'Running');

    children.push(spawnWorkerProcess(h.config, h.logDir));
    const done = await h.waitForStatus(submitted.id, ['Success'], 60_000);
    assert.equal(done.id, submitted.id);
    assert.equal(done.enqueue_time, submitted.enqueue_time);
    assert.equal(done.revision, running.revision);
    assert.equal(done.check_in, '100%');
    assert.deepEqual(done.parameters, submitted.parameters);
    assert.equal(done.fails, undefined, 'a lost worker is not a failure of the job');
    const log = readFileSync(join(h.logDir, `${submitted.id}.log`), 'utf8');
    assert.match(log, /attempt 1\)/);
    assert.match(log, /attempt 2\)/);
    assert.match(log, /run finished/);
  });
});
