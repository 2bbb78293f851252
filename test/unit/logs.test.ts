import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createJobLoggerFactory } from '../../src/logs/job-loggers.js';
import { ConfigSchema } from '../../src/config/config-schema.js';
import { openLogTail } from '../../src/logs/log-reader.js';
import { followLog } from '../../src/logs/log-follow.js';

/** The tail as the API streams it, read whole. */
async function readLogTail(dir: string, jobId: string, maxBytes: number): Promise<Buffer | undefined> {
  const tail = await openLogTail(dir, jobId, maxBytes);
  return tail && Buffer.from(await new Response(tail.body).arrayBuffer());
}
import { startLogSweeper, sweepEveryMs, sweepLogs, sweeperTargets } from '../../src/logs/log-sweeper.js';
import { waitFor } from '../helpers/wait-for.js';

const ID = '0123456789abcdef01234567';

describe('job logs', () => {
  it('a follow whose client has gone stops polling, though the log never had a line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    const client = new AbortController();
    let asked = 0;
    const stream = followLog({
      dir,
      jobId: ID,
      from: 0,
      ended: async () => {
        asked += 1;
        return false;
      },
      pollMs: 5,
      checkEveryMs: 0,
      signal: client.signal,
    });
    const reader = stream.getReader();
    const read = reader.read();
    await waitFor(
      async () => asked,
      (n) => n > 0,
      { what: 'the follow polling' },
    );
    client.abort();
    const ended = await Promise.race([read, new Promise((resolve) => setTimeout(() => resolve('still polling after 5 s'), 5000))]);
    assert.deepEqual(ended, { done: true, value: undefined });
    const after = asked;
    // Polling every 5 ms, it would have asked dozens of times more by now.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(asked, after);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a follow reads a log removed as its job ends (a pruned execution) to its last line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    const path = join(dir, `${ID}.log`);
    writeFileSync(path, 'first\n');
    let over = false;
    const reader = followLog({ dir, jobId: ID, from: 0, ended: async () => over, pollMs: 5, checkEveryMs: 0 }).getReader();
    const decoder = new TextDecoder();
    assert.equal(decoder.decode((await reader.read()).value), 'first\n');
    // The job's last lines, then its end, and the file goes before the follow reads again.
    appendFileSync(path, 'last\n');
    rmSync(path);
    over = true;
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += decoder.decode(r.value);
    assert.equal(rest, 'last\n');
    rmSync(dir, { recursive: true, force: true });
  });

  it("the sweeper sweeps Harbor's sweeper.settings.work_dir, else the FILE logger's base_dir", () => {
    const file = (sweeper?: Record<string, unknown>) => [
      { name: 'FILE' as const, level: 'INFO' as const, settings: { base_dir: '/var/log/jobs' }, ...(sweeper ? { sweeper } : {}) },
    ];
    assert.deepEqual(sweeperTargets(file({ duration: 3, settings: { work_dir: '/srv/old-logs' } }) as never), [
      { dir: '/srv/old-logs', days: 3 },
    ]);
    assert.deepEqual(sweeperTargets(file({ duration: 1, settings: {} }) as never), [{ dir: '/var/log/jobs', days: 1 }]);
    assert.deepEqual(sweeperTargets(file() as never), []);
  });

  it('every FILE logger with a sweeper is swept (only the first was), a directory named twice once, by the shorter duration', () => {
    const loggers = [
      { name: 'FILE', level: 'INFO', settings: { base_dir: '/a' }, sweeper: { duration: 3, settings: {} } },
      { name: 'FILE', level: 'INFO', settings: { base_dir: '/b' }, sweeper: { duration: 5, settings: {} } },
      { name: 'FILE', level: 'INFO', settings: { base_dir: '/c' }, sweeper: { duration: 2, settings: { work_dir: '/a/' } } },
      { name: 'FILE', level: 'INFO', settings: { base_dir: '/d' } },
    ];
    assert.deepEqual(sweeperTargets(loggers as never), [
      { dir: '/a/', days: 2 },
      { dir: '/b', days: 5 },
    ]);
  });

  it("the sweeper keeps an old log of a job whose workflow is still open (a fan-out's parent waits quietly on its sub jobs)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sweep-running-'));
    const running = 'cccccccccccccccccccccccc';
    const done = 'dddddddddddddddddddddddd';
    const threeDaysAgo = (Date.now() - 3 * 86_400_000) / 1000;
    for (const id of [running, done]) {
      writeFileSync(join(dir, `${id}.log`), 'x');
      utimesSync(join(dir, `${id}.log`), threeDaysAgo, threeDaysAgo);
    }
    const asked: string[][] = [];
    const open = async (ids: readonly string[]) => {
      asked.push([...ids].sort());
      return new Set(ids.filter((id) => id === running));
    };
    assert.deepEqual(await sweepLogs(dir, 1, Date.now(), open), [`${done}.log`]);
    assert.deepEqual(asked, [[running, done].sort()]);
    assert.ok(existsSync(join(dir, `${running}.log`)));
    // When Temporal cannot answer, no job's log goes.
    writeFileSync(join(dir, `${done}.log`), 'x');
    utimesSync(join(dir, `${done}.log`), threeDaysAgo, threeDaysAgo);
    await assert.rejects(
      sweepLogs(dir, 1, Date.now(), () => Promise.reject(new Error('unavailable'))),
      /unavailable/,
    );
    assert.ok(existsSync(join(dir, `${done}.log`)));
  });

  it('a follow from the start of a large log reads it a chunk at a time, then ends with the job', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    const whole = Buffer.alloc(3 * 1024 * 1024 + 17, 'x');
    writeFileSync(join(dir, `${ID}.log`), whole);
    const stream = followLog({ dir, jobId: ID, from: 0, ended: async () => true, pollMs: 1, checkEveryMs: 0, chunkBytes: 1024 * 1024 });
    const chunks: Uint8Array[] = [];
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
    assert.equal(chunks.length, 4);
    assert.ok(chunks.every((c) => c.length <= 1024 * 1024));
    assert.ok(Buffer.concat(chunks).equals(whole));
    rmSync(dir, { recursive: true, force: true });
  });

  it('FILE writes <base_dir>/<id>.log, honouring the level', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    const factory = createJobLoggerFactory([{ name: 'FILE', level: 'INFO', settings: { base_dir: dir } }]);
    const logger = factory.open(ID);
    logger.debug('hidden');
    logger.info('shown');
    logger.error('also shown');
    await logger.close();
    const text = readFileSync(join(dir, `${ID}.log`), 'utf8');
    assert.match(text, /\[INFO\] shown/);
    assert.match(text, /\[ERROR\] also shown/);
    assert.doesNotMatch(text, /hidden/);
  });

  it("a job logs at Harbor's FATAL level too, and a logger at FATAL shows only those lines", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    const logger = createJobLoggerFactory([{ name: 'FILE', level: 'FATAL', settings: { base_dir: dir } }]).open(ID);
    logger.error('not severe enough');
    logger.fatal('the registry is gone');
    await logger.close();
    const text = readFileSync(join(dir, `${ID}.log`), 'utf8');
    assert.match(text, /\[FATAL\] the registry is gone/);
    assert.doesNotMatch(text, /not severe enough/);
  });

  it("FILE shows a running job's lines within moments, in order, and all of them once closed", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    const path = join(dir, `${ID}.log`);
    const logger = createJobLoggerFactory([{ name: 'FILE', level: 'INFO', settings: { base_dir: dir } }]).open(ID);
    logger.info('line 1');
    logger.info('line 2');
    // Written while the run goes on: a reader sees them without the run ending.
    await waitFor(
      async () => (existsSync(path) ? readFileSync(path, 'utf8') : ''),
      (text) => /line 2/.test(text),
      { timeoutMs: 5_000, intervalMs: 10, what: 'the first lines in the file' },
    );
    for (let i = 3; i <= 200; i++) logger.info(`line ${i}`);
    await logger.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => /line (\d+)$/.exec(l)?.[1]),
      Array.from({ length: 200 }, (_, i) => String(i + 1)),
    );
  });

  it('FILE loses a line it cannot write, and the run goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    const logger = createJobLoggerFactory([{ name: 'FILE', level: 'INFO', settings: { base_dir: dir } }]).open(ID);
    rmSync(dir, { recursive: true });
    logger.info('nowhere to go');
    await logger.close();
    assert.ok(!existsSync(join(dir, `${ID}.log`)));
  });

  it('refuses to open a log for an id that is not of the issued form', () => {
    const factory = createJobLoggerFactory([{ name: 'FILE', level: 'INFO', settings: { base_dir: tmpdir() } }]);
    assert.throws(() => factory.open('../../etc/passwd'), /malformed job id/);
  });

  it('reads the tail within the cap, all of it with cap 0, nothing for foreign ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    writeFileSync(join(dir, `${ID}.log`), '0123456789');
    assert.equal((await readLogTail(dir, ID, 4))?.toString(), '6789');
    assert.equal((await readLogTail(dir, ID, 0))?.toString(), '0123456789');
    assert.equal(await readLogTail(dir, 'ffffffffffffffffffffffff', 4), undefined);
    assert.equal(await readLogTail(dir, '../x', 4), undefined);
  });

  it('sweeps at least daily, so a duration past Node’s 24.8-day timer limit does not sweep without pause', async () => {
    const day = 24 * 3600 * 1000;
    assert.equal(sweepEveryMs(30), day);
    assert.equal(sweepEveryMs(0.5), day / 2);
    assert.equal(sweepEveryMs(0.00001), 60_000);
    // A "directory" that is a file: every sweep fails, so the failures count the sweeps.
    const dir = mkdtempSync(join(tmpdir(), 'sweeper-'));
    const notADir = join(dir, 'file');
    writeFileSync(notADir, 'x');
    let sweeps = 0;
    const stop = startLogSweeper(notADir, 30, () => sweeps++);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await stop();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(sweeps, 1, 'only the sweep at start');
  });

  it('sweeps logs older than the duration and keeps newer ones and other files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    const old = join(dir, 'aaaaaaaaaaaaaaaaaaaaaaaa.log');
    const fresh = join(dir, 'bbbbbbbbbbbbbbbbbbbbbbbb.log');
    const other = join(dir, 'notes.txt');
    for (const f of [old, fresh, other]) writeFileSync(f, 'x');
    const threeDaysAgo = (Date.now() - 3 * 86_400_000) / 1000;
    utimesSync(old, threeDaysAgo, threeDaysAgo);
    utimesSync(other, threeDaysAgo, threeDaysAgo);
    // Without a reader of Temporal (the service's own logger) no job's log goes: a job logger's sweep takes it.
    assert.deepEqual(await sweepLogs(dir, 1), []);
    const noneRunning = async () => new Set<string>();
    assert.deepEqual(await sweepLogs(dir, 1, Date.now(), noneRunning), ['aaaaaaaaaaaaaaaaaaaaaaaa.log']);
    assert.ok(!existsSync(old));
    assert.ok(existsSync(fresh));
    assert.ok(existsSync(other));
    // A work_dir that names no directory (a typo) is reported at every sweep, as Harbor does, not a sweep of nothing.
    await assert.rejects(sweepLogs(join(dir, 'absent'), 1), /work_dir .*absent does not exist: no logs are swept there/);
  });
  it('two FILE job loggers write a line each, each into its own base_dir (both went to the first’s file)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'two-files-'));
    const loggers = ConfigSchema.shape.job_loggers.parse([
      { name: 'FILE', level: 'INFO', settings: { base_dir: join(root, 'a') } },
      { name: 'FILE', level: 'INFO', settings: { base_dir: join(root, 'b') } },
    ]);
    const logger = createJobLoggerFactory(loggers).open(ID);
    logger.info('one line');
    await logger.close();
    for (const dir of ['a', 'b']) {
      const lines = readFileSync(join(root, dir, `${ID}.log`), 'utf8')
        .split('\n')
        .filter(Boolean);
      assert.equal(lines.length, 1, `${dir}: ${lines.join(' | ')}`);
    }
  });

  it('the sweeper leaves the log of a run still writing it, however long the run has been quiet', async () => {
    const logs = mkdtempSync(join(tmpdir(), 'sweep-open-'));
    const loggers = ConfigSchema.shape.job_loggers.parse([
      { name: 'FILE', level: 'INFO', settings: { base_dir: logs }, sweeper: { duration: 1 } },
    ]);
    const logger = createJobLoggerFactory(loggers).open(ID);
    logger.info('run started');
    const old = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    utimesSync(join(logs, `${ID}.log`), old, old);
    const noneRunning = async () => new Set<string>();
    assert.deepEqual(await sweepLogs(logs, 1, Date.now(), noneRunning), []);
    logger.info('run finished');
    await logger.close();
    assert.match(readFileSync(join(logs, `${ID}.log`), 'utf8'), /run started[\s\S]*run finished/);
    // Once the run has closed it, an old log goes as any.
    utimesSync(join(logs, `${ID}.log`), old, old);
    assert.deepEqual(await sweepLogs(logs, 1, Date.now(), noneRunning), [`${ID}.log`]);
  });
});
