import { spawn } from 'node:child_process';
import { findOnPath } from '../process/find-on-path.js';

/**
 * Which of Temporal's visibility indexes the embedded server's SQLite file keeps.
 *
 * `lean` (the default): Temporal's SQLite schema gives the visibility table 46 indexes, one per
 * column a list could filter or sort on, a slot for every custom search attribute type included.
 * Every workflow writes its visibility row twice (started, closed), every index with it, on the
 * server's one SQLite connection. `lean` drops the indexes no job list or schedule list reads:
 * the Bool, Datetime, Double and Int slots (jobservice registers Keywords only) and system columns
 * (history length and size, execution duration, state transitions, parent and root run ids,
 * batcher user, pause info, worker deployment and versioning). Queries on those columns still
 * answer, by scanning the namespace's rows instead. Measured here: +9–24% workflows/s for a bare
 * workflow and a NOOP job alike, 0.8–1.4 ms less server CPU each.
 *
 * `all`: Temporal's schema as the CLI creates it; a file made lean before gets its dropped
 * indexes back (their definitions are kept in the file, in `jobservice_dropped_indexes`).
 */
export type VisibilityIndexes = 'lean' | 'all';

export const DEV_SERVER_VISIBILITY_INDEXES: VisibilityIndexes = 'lean';

export const LEAN_DROPPED_INDEXES = [
  'by_history_length',
  'by_history_size_bytes',
  'by_execution_duration',
  'by_state_transition_count',
  'by_parent_run_id',
  'by_root_run_id',
  'by_batcher_user',
  'by_temporal_pause_info',
  'by_temporal_worker_deployment_version',
  'by_temporal_workflow_versioning_behavior',
  'by_temporal_worker_deployment',
  'by_bool_01',
  'by_bool_02',
  'by_bool_03',
  'by_datetime_01',
  'by_datetime_02',
  'by_datetime_03',
  'by_double_01',
  'by_double_02',
  'by_double_03',
  'by_int_01',
  'by_int_02',
  'by_int_03',
] as const;

/**
 * Node 20 has no SQLite of its own, and the file is the server's: Python's standard sqlite3 opens
 * it as a second connection with SQLite's own locking, in one transaction. The definitions of what
 * it drops stay in the file, so `all` can put them back.
 */
const SCRIPT = `
import sqlite3, sys
db, mode, names = sys.argv[1], sys.argv[2], sys.argv[3].split(',')
c = sqlite3.connect(db, timeout=30, isolation_level=None)
c.execute('BEGIN IMMEDIATE')
kept = c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobservice_dropped_indexes'").fetchone()
changed = 0
if mode == 'lean':
    if not kept:
        c.execute('CREATE TABLE jobservice_dropped_indexes (name TEXT PRIMARY KEY, sql TEXT NOT NULL)')
    for name in names:
        row = c.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)).fetchone()
        if row:
            c.execute('INSERT OR REPLACE INTO jobservice_dropped_indexes VALUES (?, ?)', (name, row[0]))
            c.execute('DROP INDEX "%s"' % name)
            changed += 1
elif kept:
    for name, sql in c.execute('SELECT name, sql FROM jobservice_dropped_indexes').fetchall():
        if not c.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)).fetchone():
            c.execute(sql)
            changed += 1
    c.execute('DROP TABLE jobservice_dropped_indexes')
c.execute('COMMIT')
print(changed)
`;

export interface IndexesApplied {
  /** Indexes dropped (`lean`) or restored (`all`) just now. */
  changed: number;
}

/**
 * Makes `dbFile`'s visibility indexes what `mode` says; the number changed, or why nothing could
 * be (no python3: the file keeps what it has). Never throws: the server runs either way.
 */
export async function applyVisibilityIndexes(
  dbFile: string,
  mode: VisibilityIndexes,
  env: NodeJS.ProcessEnv = process.env,
): Promise<IndexesApplied | { skipped: string }> {
  const python = findOnPath('python3', env.PATH ?? '');
  if (!python) return { skipped: 'python3 is not on PATH' };
  return new Promise((resolve) => {
    const child = spawn(python, ['-c', SCRIPT, dbFile, mode, LEAN_DROPPED_INDEXES.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', (error) => resolve({ skipped: error.message }));
    child.once('close', (code) => {
      const changed = Number(out.trim());
      if (code === 0 && Number.isInteger(changed)) resolve({ changed });
      else resolve({ skipped: `python3 exited ${code}: ${err.trim().split('\n').pop() ?? ''}` });
    });
  });
}
