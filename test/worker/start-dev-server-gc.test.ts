import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/process/free-port.js';
import { exited } from '../helpers/worker-process.js';
import { waitFor } from '../helpers/wait-for.js';

/** The processes whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return tasks ? tasks.split(/\s+/).map(Number) : [];
}

describe("npm start hands its config's Go GC settings to the embedded server", () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobservice-start-gc-'));
  let child: ChildProcess | undefined;
  after(async () => {
    child?.kill('SIGTERM');
    if (child) await exited(child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('temporal.dev_server.go_gc and go_memory_limit reach the server process', async () => {
    const [port, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
    const configPath = join(dir, 'start.yaml');
    writeFileSync(
      configPath,
      JSON.stringify({
        port,
        core_secret: 'start-gc-secret-0123456789',
        job_loggers: [{ name: 'FILE', settings: { base_dir: join(dir, 'logs') } }],
        loggers: [{ name: 'STD_OUTPUT', level: 'ERROR' }],
        temporal: {
          dev_server: { port: temporalPort, ui_port: uiPort, db_file: join(dir, 'temporal.db'), go_gc: 150, go_memory_limit: '900MiB' },
        },
      }),
    );
    // Neither variable from the runner: an operator's would win by design.
    const { GOGC: _gogc, GOMEMLIMIT: _limit, TEMPORAL_ADDRESS: _address, ...env } = process.env;
    child = spawn(process.execPath, ['--import', 'tsx', 'src/start.ts'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...env, JOB_SERVICE_CONFIG: configPath },
    });
    await waitFor(
      () =>
        fetch(`http://127.0.0.1:${port}/api/v1/stats`).then(
          (r) => r.status,
          () => 0,
        ),
      (status) => status === 200 || child?.exitCode !== null,
      { timeoutMs: 120_000, what: 'npm start to answer' },
    );
    assert.equal(child.exitCode, null, 'npm start is running');
    const server = childrenOf(child.pid!).find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start-dev'));
    assert.ok(server, 'npm start runs the embedded dev server as its child');
    const environ = readFileSync(`/proc/${server}/environ`, 'utf8').split('\0');
    assert.ok(environ.includes('GOGC=150'), 'GOGC from temporal.dev_server.go_gc');
    assert.ok(environ.includes('GOMEMLIMIT=900MiB'), 'GOMEMLIMIT from temporal.dev_server.go_memory_limit');
  });
});
