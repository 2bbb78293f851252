import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveApi } from '../../src/api/serve-app.js';
import { freePort } from '../../src/process/free-port.js';
import { createHarness, TEST_SECRET, type Harness } from '../helpers/harness.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { WorkflowNotFoundError } from '@temporalio/client';
import { uniqueJobId } from '../../src/api/unique-job-id.js';

describe('an API that closes (SIGTERM) with submits in flight', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ worker: false });
  });
  after(async () => {
    await h.close();
  });

  it('answers every submit whose job it started: none is created behind a cut connection (its caller would submit again)', async () => {
    const api = await serveApi({ ...h.config, port: await freePort() }, h.client, testRegistry());
    // Unique jobs: each submit's job id is known, answered or not, and read with describe (no visibility lag).
    const parameters = (i: number) => ({ image: `demo-shutdown-${i}` });
    const post = (i: number) =>
      fetch(`${api.url}/api/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Harbor-Secret ${TEST_SECRET}`, 'content-type': 'application/json' },
        body: JSON.stringify({ job: { name: 'DEMO', parameters: parameters(i), metadata: { kind: 'Generic', unique: true } } }),
      }).then(
        (r) => r.status,
        () => 0,
      );
    assert.equal(await post(-1), 202);
    let firstAnswered!: () => void;
    const first = new Promise<void>((r) => (firstAnswered = r));
    const answers = Array.from({ length: 40 }, (_, i) => post(i).finally(() => firstAnswered()));
    // Closed as start.ts and api/main.ts close it on SIGTERM, once the first of them is answered.
    await first;
    await api.close();
    const statuses = await Promise.all(answers);
    const exists = (i: number) =>
      h.client.workflow
        .getHandle(uniqueJobId('DEMO', parameters(i)))
        .describe()
        .then(
          () => true,
          (err: unknown) => {
            if (err instanceof WorkflowNotFoundError) return false;
            throw err;
          },
        );
    const created = await Promise.all(statuses.map((_, i) => exists(i)));
    const behindCut = statuses.flatMap((status, i) => (created[i] && status !== 202 ? [`#${i}: ${status}`] : []));
    assert.deepEqual(behindCut, [], 'jobs started for submits that got no 202');
    assert.ok(statuses.filter((s) => s === 202).length > 1, `statuses: ${statuses.join(' ')}`);
  });
});
