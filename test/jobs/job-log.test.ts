import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

describe('job logs over the API', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ config: testConfig({ max_retrieve_size_mb: 0.0001 }) });
  });
  after(async () => {
    await h.close();
  });

  it('serves the tail of a job log capped by max_retrieve_size_mb, as text/plain', async () => {
    const { id } = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-log', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(id, ['Success']);
    const response = await waitFor(
      () => h.request('GET', `/api/v1/jobs/${id}/log`),
      (r) => r.status === 200,
      { what: 'the log' },
    );
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await response.text();
    const cap = Math.floor(0.0001 * 1024 * 1024);
    assert.ok(Buffer.byteLength(text) <= cap, `log of ${Buffer.byteLength(text)} bytes exceeds the ${cap}-byte cap`);
    // The tail, not the head: the last line is the end of the run.
    assert.match(text, /run finished\n$/);

    // A big log is cut to the cap from the end.
    writeFileSync(join(h.logDir, `${id}.log`), `${'a'.repeat(5000)}THE END\n`);
    const tail = await (await h.request('GET', `/api/v1/jobs/${id}/log`)).text();
    assert.equal(Buffer.byteLength(tail), cap);
    assert.ok(tail.endsWith('THE END\n'));
  });
});
