import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/process/free-port.js';
import { startDevServer } from '../../src/temporal/dev-server.js';
import { endOrphanedServer } from '../../src/temporal/orphaned-server.js';
import { running } from '../../src/process/proc-stat.js';
import { testTemporalCli } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { exited } from '../helpers/worker-process.js';

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
    assert.ok(running(orphan), 'the server outlived the process that started it');

    const notices: string[] = [];
    const server = await startDevServer({ cli: testTemporalCli(), ip: '127.0.0.1', port, dbFile, notice: (line) => notices.push(line) });
    try {
      assert.ok(!running(orphan), 'the orphan is gone');
      assert.notEqual(server.process.pid, orphan);
      assert.ok(
        // Ended, or waited for when it was exiting already (its log pipe closed with its owner).
        notices.some((line) => line.includes(`ending Temporal server ${orphan}`) || line.includes(`waiting for Temporal server ${orphan}`)),
        notices.join('\n'),
      );
    } finally {
      await server.stop();
    }
  });

  it('is told from a process that took its pid since (a reboot, say), which is left alone', async () => {
    const file = join(dir, 'other.db');
    // The old owner is gone; its server's pid is now a process that merely names the file.
    const gone = spawnSync('true').pid!;
    const bystander = spawn('sh', ['-c', 'sleep 30', 'backup', '--db-filename', file, 'start-dev'], { stdio: 'ignore' });
    try {
      await waitFor(async () => bystander.pid !== undefined && running(bystander.pid), Boolean, { what: 'the bystander' });
      writeFileSync(`${file}.server-pid`, JSON.stringify({ pid: bystander.pid, owner: gone, dbFile: file, startedAt: '1', bootId: 'x' }));
      assert.equal(await endOrphanedServer(file), false);
      assert.equal(bystander.exitCode ?? bystander.signalCode, null, 'the bystander still runs');
    } finally {
      bystander.kill('SIGKILL');
      await exited(bystander);
    }
  });
});
