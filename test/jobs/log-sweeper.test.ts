import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

const DAY_MS = 24 * 3600 * 1000;
/** A job no workflow has (long gone): its old log is swept. */
const GONE_ID = 'aaaaaaaaaaaaaaaaaaaaaaaa';

describe("the worker's log sweepers: every FILE job logger's, and never a log of a job still open", () => {
  let h: Harness;
  let first: string;
  let second: string;
  before(async () => {
    first = mkdtempSync(join(tmpdir(), 'sweep-first-'));
    second = mkdtempSync(join(tmpdir(), 'sweep-second-'));
    h = await createHarness({
      worker: false,
      config: testConfig({
        job_loggers: [
          { name: 'FILE', level: 'DEBUG', settings: { base_dir: first }, sweeper: { duration: 1 } },
          { name: 'FILE', level: 'DEBUG', settings: { base_dir: second }, sweeper: { duration: 1 } },
        ],
      }),
    });
  });
  after(async () => {
    await h.close();
    rmSync(first, { recursive: true, force: true });
    rmSync(second, { recursive: true, force: true });
  });

  it('sweeps old logs in both directories at start and keeps the quiet log of a job whose workflow is open', async () => {
    // A job waiting for a worker stands for a fan-out's parent waiting days on its sub jobs: its
    // log was last written long ago, and it is not finished.
    const open = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } });
    const old = new Date(Date.now() - 3 * DAY_MS);
    const logs = [join(first, `${open.id}.log`), join(first, `${GONE_ID}.log`), join(second, `${GONE_ID}.log`)];
    for (const path of logs) {
      writeFileSync(path, 'an old line\n');
      utimesSync(path, old, old);
    }
    await h.startWorker();
    await waitFor(
      async () => logs.slice(1).filter(existsSync),
      (left) => left.length === 0,
      { what: "both directories' old logs of a job that is gone to be swept" },
    );
    assert.ok(existsSync(logs[0]!), `the log of ${open.id}, whose workflow is open, was swept`);
    await h.waitForStatus(open.id, ['Success']);
  });
});
