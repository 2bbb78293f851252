import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { DEFAULT_REGISTRY_SETTINGS, registryClient } from '../../src/jobs/retention/retention-settings.js';
import { RegistryClient } from '../../src/registry/registry-client.js';

/** A registry whose DELETE handler the test writes; it records every DELETE it receives. */
async function fakeRegistry(onDelete: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  const deletes: number[] = [];
  const server = createServer((req, res) => {
    if (req.method !== 'DELETE') return void res.writeHead(404).end();
    deletes.push(Date.now());
    onDelete(req, res, deletes.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { url, deletes, close };
}

const DIGEST = `sha256:${'a'.repeat(64)}`;
const outcomeOf = (p: Promise<unknown>) => p.then(String, (err: Error) => `error: ${err.message}`);

/**
 * A job's stop and its registry deletes: a delete already sent gets `deleteAnswerMs` to answer
 * (the registry may have carried it out), and none is sent after the stop.
 */
describe('registry client: deletes and the job’s stop', () => {
  const client = (
    url: string,
    signal: AbortSignal,
    extra: { retry?: { retries: number; maxRetryAfterMs: number; backoffMs: number } } = {},
  ) => new RegistryClient({ url }, { timeoutMs: 30_000, signal, deleteAnswerMs: 5_000, ...extra });

  it('a delete in flight as the stop lands gets its answer: the registry carried it out', async () => {
    const stop = new AbortController();
    const registry = await fakeRegistry((_req, res) => {
      stop.abort();
      setTimeout(() => res.writeHead(202).end(), 300);
    });
    try {
      assert.equal(await outcomeOf(client(registry.url, stop.signal).deleteManifest('app', DIGEST)), 'deleted');
    } finally {
      await registry.close();
    }
  });

  it('a delete refused with 503 + Retry-After is not sent again once the job is stopped', async () => {
    const stop = new AbortController();
    const registry = await fakeRegistry((_req, res, n) => {
      if (n === 1) {
        stop.abort();
        res.writeHead(503, { 'retry-after': '3' }).end();
      } else res.writeHead(202).end();
    });
    try {
      const retry = { retries: 4, maxRetryAfterMs: 60_000, backoffMs: 10 };
      const outcome = await outcomeOf(client(registry.url, stop.signal, { retry }).deleteManifest('app', DIGEST));
      assert.equal(registry.deletes.length, 1, `DELETEs sent: ${registry.deletes.length} (${outcome})`);
    } finally {
      await registry.close();
    }
  });

  it('a delete asked for after the stop is not sent', async () => {
    const stop = new AbortController();
    stop.abort();
    const registry = await fakeRegistry((_req, res) => res.writeHead(202).end());
    try {
      const outcome = await outcomeOf(client(registry.url, stop.signal).deleteManifest('app', DIGEST));
      assert.equal(registry.deletes.length, 0, outcome);
      assert.match(outcome, /not sent, the job is stopping/);
    } finally {
      await registry.close();
    }
  });

  it('a delete whose 401 asks for a token as the stop lands does not send its authenticated repeat', async () => {
    const stop = new AbortController();
    const token = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"t"}'));
    await new Promise<void>((resolve) => token.listen(0, '127.0.0.1', resolve));
    const realm = `http://127.0.0.1:${(token.address() as AddressInfo).port}/token`;
    const registry = await fakeRegistry((req, res) => {
      if (req.headers.authorization?.startsWith('Bearer ')) return void res.writeHead(202).end();
      stop.abort();
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="r"` }).end();
    });
    try {
      const authed = new RegistryClient(
        { url: registry.url, username: 'u', password: 'p' },
        { timeoutMs: 30_000, signal: stop.signal, deleteAnswerMs: 5_000 },
      );
      const outcome = await outcomeOf(authed.deleteManifest('app', DIGEST));
      assert.equal(registry.deletes.length, 1, outcome);
    } finally {
      await registry.close();
      token.closeAllConnections();
      token.close();
    }
  });

  it('32 deletes in flight add one listener to the job’s signal, not one each (no MaxListenersExceededWarning)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const registry = await fakeRegistry((_req, res) => void gate.then(() => res.writeHead(202).end()));
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const job = new AbortController();
      const deleting = client(registry.url, job.signal);
      const all = Array.from({ length: 32 }, (_, i) => deleting.deleteManifest('app', `sha256:${i.toString(16).padStart(64, '0')}`));
      const deadline = Date.now() + 10_000;
      while (registry.deletes.length < 32 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(registry.deletes.length, 32);
      assert.ok(getEventListeners(job.signal, 'abort').length <= 2, `${getEventListeners(job.signal, 'abort').length} listeners`);
      release();
      await Promise.all(all);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        warnings.filter((w) => /MaxListeners/.test(w)),
        [],
      );
    } finally {
      process.off('warning', onWarning);
      await registry.close();
    }
  });

  it("a job's client gives a delete in flight a quarter of the job's stop grace to answer, so the run still returns within it", async () => {
    const answerAfterStop = async (stopGraceMs: number) => {
      const stop = new AbortController();
      const registry = await fakeRegistry((_req, res) => {
        stop.abort();
        setTimeout(() => res.writeHead(202).end(), 1500);
      });
      try {
        const job = { signal: stop.signal, stopGraceMs, logger: { warning: () => {} } };
        return await outcomeOf(registryClient(DEFAULT_REGISTRY_SETTINGS, registry.url, job).deleteManifest('app', DIGEST));
      } finally {
        await registry.close();
      }
    };
    assert.equal(await answerAfterStop(10_000), 'deleted', 'a grace of 10 s leaves the delete 2.5 s');
    assert.match(await answerAfterStop(2_000), /^error: /, 'a grace of 2 s leaves it 0.5 s');
  });
});
