import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDeliverHook } from '../../src/activities/deliver-hook.js';
import type { DeliverHookResult } from '../../src/activities/types.js';
import { createHookAllowList } from '../../src/hooks/hook-allow-list.js';
import { JobStatus } from '../../src/shared/job-model.js';

/**
 * A status hook's URL is the submitter's choice. A receiver in a process of its own answers
 * `/big` with a 500 and 1.5 GiB of body as fast as it can, and `/endless` with a 200 and a body
 * that never ends; the worker's attempt must neither buffer them nor outlast its timeout.
 */
const RECEIVER = `
const { createServer } = require('node:http');
const chunk = Buffer.alloc(1024 * 1024, 'x');
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(req.url === '/big' ? 500 : 200, { 'content-type': 'text/plain' });
    let sent = 0;
    const pump = () => {
      while (req.url !== '/big' || sent < 1536) { sent++; if (!res.write(chunk)) return; }
      res.end();
    };
    res.on('drain', pump);
    res.on('close', () => res.removeListener('drain', pump));
    pump();
  });
});
server.listen(0, '127.0.0.1', () => console.log('http://127.0.0.1:' + server.address().port));
`;

describe('a hook receiver answering with a huge body', () => {
  let child: ChildProcess;
  let base: string;
  before(async () => {
    child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    base = line.toString().trim();
  });
  after(() => {
    child.kill();
  });

  for (const [path, ok] of [
    ['big', false],
    ['endless', true],
  ] as const) {
    it(`/${path}: the attempt ends within its timeout, holding only the start of the answer`, async () => {
      const deliverHook = createDeliverHook({ allowList: createHookAllowList([]) });
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 20);
      const started = Date.now();
      const result: DeliverHookResult = await new MockActivityEnvironment().run(deliverHook, {
        url: `${base}/${path}`,
        event: { job_id: 'x', status: JobStatus.Running, metadata: {} as never },
        timeoutMs: 2_000,
      });
      const tookMs = Date.now() - started;
      clearInterval(sampler);
      const grewMb = Math.round((peak - baseline) / 1024 / 1024);
      assert.equal(result.ok, ok, JSON.stringify(result).slice(0, 300));
      if (!result.ok) assert.match(result.error, /^HTTP 500: x{10}/);
      assert.ok(tookMs < 4_000, `the attempt with a 2 s timeout took ${tookMs} ms`);
      assert.ok(grewMb < 128, `the worker buffered ${grewMb} MB of one receiver's answer`);
    });
  }
});
