import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/process/free-port.js';
import { startDevServer } from '../../src/temporal/dev-server.js';
import { testTemporalCli } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { exited } from '../helpers/worker-process.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the embedded server of a process killed with SIGKILL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orphaned-server-'));
  const dbFile = join(dir, 'temporal.db');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is ended by the next start on the same file, which then serves it', async () => {
    const port = await freePort();
    // Stands in for `npm start`: starts the server on the file, says its pid, and is killed.
    const owner = join(dir, 'owner.mts');
    writeFileSync(
      owner,
      `import { startDevServer } from ${JSON.stringify(resolve('src/temporal/dev-server.ts'))};\n` +
        `const server = await startDevServer({ cli: ${JSON.stringify(testTemporalCli())}, ip: '127.0.0.1', port: ${port}, dbFile: ${JSON.stringify(dbFile)} });\n` +
        `console.log('server ' + server.process.pid);\nsetInterval(() => {}, 1000);\n`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', owner], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const orphan = Number(
      (await waitFor(
        async () => /server (\d+)/.exec(output)?.[1],
        (pid) => pid !== undefined,
        { timeoutMs: 60_000, what: 'the first server' },
      ))!,
    );
    child.kill('SIGKILL');
    await exited(child);
    assert.ok(alive(orphan), 'the server outlived the process that started it');

    const notices: string[] = [];
    const server = await startDevServer({ cli: testTemporalCli(), ip: '127.0.0.1', port, dbFile, notice: (line) => notices.push(line) });
    try {
      assert.ok(!alive(orphan), 'the orphan is gone');
      assert.notEqual(server.process.pid, orphan);
      assert.ok(
        notices.some((line) => line.includes(`ending Temporal server ${orphan}`)),
        notices.join('\n'),
      );
    } finally {
      await server.stop();
    }
  });
});
