import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { logChildOutput } from '../../src/process/child-log.js';

describe('a child process log', () => {
  it('keeps both streams when one ends long before the other, without a write after end', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'child-log-')), 'child.log');
    // stdout closes first; stderr writes its last line after that, as a service stopping does.
    const child = spawn(
      process.execPath,
      ['-e', "process.stdout.write('first\\n'); require('fs').closeSync(1); setTimeout(() => process.stderr.write('last\\n'), 200)"],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const uncaught: Error[] = [];
    const onUncaught = (err: Error) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      logChildOutput(child, path);
      await new Promise((resolve) => child.once('close', resolve));
      const deadline = Date.now() + 5000;
      while (!readFileSync(path, 'utf8').includes('last') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(readFileSync(path, 'utf8'), 'first\nlast\n');
      assert.deepEqual(uncaught, []);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('drains a child whose log cannot be written rather than block it', async () => {
    // More than a pipe holds: a child whose output is never read would block on it for ever.
    const child = spawn(process.execPath, ['-e', "process.stdout.write('x'.repeat(400_000)); process.stderr.write('y'.repeat(400_000))"], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    logChildOutput(child, join(tmpdir(), `no-such-dir-${process.pid}`, 'child.log'));
    const exited = await Promise.race([
      new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))),
      new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 10_000).unref()),
    ]);
    if (exited === 'blocked') child.kill('SIGKILL');
    assert.equal(exited, 0);
  });
});
