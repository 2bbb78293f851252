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

    // The tail is the log's bytes as written, even when the cap cuts a character in two.
    const written = Buffer.from(`${'é'.repeat(3000)}THE END!\n`);
    writeFileSync(join(h.logDir, `${id}.log`), written);
    const bytes = Buffer.from(await (await h.request('GET', `/api/v1/jobs/${id}/log`)).arrayBuffer());
    assert.deepEqual(bytes, written.subarray(written.length - cap));
  });
  it('follow=1 streams the log as it grows and ends with the job; unknown query parameters are a 400', async () => {
    const { id } = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-follow', step_ms: 800, hold_ms: 800 },
      metadata: { kind: 'Generic' },
    });
    const response = await h.request('GET', `/api/v1/jobs/${id}/log?follow=1`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let statusWhenMidway: string | undefined;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      // Seen as soon as it is written: the job still has two pauses ahead.
      if (statusWhenMidway === undefined && text.includes('check in 60%')) statusWhenMidway = (await h.stats(id)).status;
    }
    assert.equal(statusWhenMidway, 'Running', 'lines arrive while the job runs');
    assert.match(text, /check in 100%/);
    assert.match(text, /run finished/);
    assert.equal((await h.stats(id)).status, 'Success', 'the stream ends once the job has');

    for (const query of ['follow=2', 'follow=1&tail=5', 'lines=10']) {
      const bad = await h.request('GET', `/api/v1/jobs/${id}/log?${query}`);
      assert.equal(bad.status, 400, query);
      assert.equal(((await bad.json()) as { code: number }).code, 10013);
    }
    assert.equal((await h.request('GET', '/api/v1/jobs/0123456789abcdef01234567/log?follow=1')).status, 404);
  });

  it('a job that ended without writing a log has none, with follow=1 too (404), as a job that has not run yet waits for its first line', async () => {
    const { id } = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-never', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Scheduled', schedule_delay: 3600 },
    });
    assert.equal((await h.request('POST', `/api/v1/jobs/${id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(id, ['Stopped']);
    const plain = await h.request('GET', `/api/v1/jobs/${id}/log`);
    assert.equal(plain.status, 404);
    const followed = await h.request('GET', `/api/v1/jobs/${id}/log?follow=1`);
    const body = await followed.text();
    assert.equal(followed.status, 404, body);
    assert.match((JSON.parse(body) as { description?: string }).description ?? '', /has not written a log/);
  });
});
