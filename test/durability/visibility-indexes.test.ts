import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { applyVisibilityIndexes, LEAN_DROPPED_INDEXES } from '../../src/temporal/visibility-indexes.js';
import { freePort } from '../../src/process/free-port.js';
import { createHarness, testConfig, testTemporalCli, type Harness } from '../helpers/harness.js';

/** The visibility table's indexes in a SQLite file, read with Python's sqlite3 (as the service drops them). */
function indexesOf(dbFile: string): string[] {
  const script =
    "import sqlite3,sys,json; c=sqlite3.connect(sys.argv[1]); print(json.dumps([r[0] for r in c.execute(\"SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='executions_visibility' ORDER BY name\")]))";
  return JSON.parse(execFileSync('python3', ['-c', script, dbFile], { encoding: 'utf8' })) as string[];
}

describe("the embedded server's visibility indexes", () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobservice-indexes-'));
  const dbFile = join(dir, 'temporal.db');
  let server: DevServer | undefined;
  let h: Harness | undefined;
  after(async () => {
    await h?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lean (the default) drops the unread ones from a new file, and jobs are still listed and searched by their attributes', async () => {
    const notices: string[] = [];
    server = await startDevServer({
      cli: testTemporalCli(),
      ip: '127.0.0.1',
      port: await freePort(),
      dbFile,
      notice: (l) => notices.push(l),
    });
    const names = indexesOf(dbFile);
    for (const dropped of LEAN_DROPPED_INDEXES) assert.ok(!names.includes(dropped), `${dropped} is dropped`);
    // What job lists, the Web UI's default list, schedules and our search attributes (Keywords) read.
    for (const kept of [
      'default_idx',
      'by_status',
      'by_task_queue',
      'by_workflow_type',
      'by_temporal_namespace_division',
      'by_keyword_01',
      'by_keyword_04',
    ]) {
      assert.ok(names.includes(kept), `${kept} is kept`);
    }
    assert.equal(names.length, 46 - LEAN_DROPPED_INDEXES.length);
    assert.deepEqual(notices, [`visibility indexes: dropped ${LEAN_DROPPED_INDEXES.length} (lean) in ${dbFile}`]);

    h = await createHarness({ config: testConfig({ temporal: { address: server.address } }) });
    const job = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } });
    await h.waitForStatus(job.id, ['Success']);
    const found = await h.client.workflow.count(`JobName = "NOOP" AND JobStatus = "Success" AND JobKind = "Generic"`);
    assert.equal(found.count, 1);
    // A query on a column whose index is gone still answers (by scanning).
    const byLength = await h.client.workflow.count(`HistoryLength > 0 AND ExecutionDuration >= 0`);
    assert.ok(byLength.count >= 1, `HistoryLength/ExecutionDuration query found ${byLength.count}`);
    await h.close();
    h = undefined;
    await server.stop();
    server = undefined;
  });

  it('a restart leaves a lean file as it is; all puts the dropped indexes back, and lean drops them again', async () => {
    const notices: string[] = [];
    const start = async (visibilityIndexes: 'lean' | 'all') => {
      server = await startDevServer({
        cli: testTemporalCli(),
        ip: '127.0.0.1',
        port: await freePort(),
        dbFile,
        visibilityIndexes,
        notice: (l) => notices.push(l),
      });
      const names = indexesOf(dbFile);
      await server.stop();
      server = undefined;
      return names;
    };
    assert.equal((await start('lean')).length, 46 - LEAN_DROPPED_INDEXES.length);
    assert.deepEqual(notices, [], 'nothing to drop on a restart');
    const all = await start('all');
    assert.equal(all.length, 46);
    for (const dropped of LEAN_DROPPED_INDEXES) assert.ok(all.includes(dropped), `${dropped} is back`);
    assert.equal((await start('lean')).length, 46 - LEAN_DROPPED_INDEXES.length);
    assert.deepEqual(notices, [
      `visibility indexes: restored ${LEAN_DROPPED_INDEXES.length} (all) in ${dbFile}`,
      `visibility indexes: dropped ${LEAN_DROPPED_INDEXES.length} (lean) in ${dbFile}`,
    ]);
  });

  it('without python3 the file is left as it is, and says why', async () => {
    assert.deepEqual(await applyVisibilityIndexes(dbFile, 'all', { PATH: '' }), { skipped: 'python3 is not on PATH' });
    assert.equal(indexesOf(dbFile).length, 46 - LEAN_DROPPED_INDEXES.length);
  });
});
