import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startDevServer } from '../../src/temporal/dev-server.js';
import { freePort } from '../../src/process/free-port.js';

describe('the embedded server’s output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dev-server-output-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reaches the log whole, a line split across writes included, and a crash’s last words without their newline', async () => {
    // A stand-in for the CLI that writes one line in two pieces, then dies mid-sentence.
    const cli = join(dir, 'temporal');
    writeFileSync(
      cli,
      "#!/bin/sh\nprintf 'gc 1 @1.0s 0%%: 0.1+'\nsleep 0.2\nprintf '2+0.1 ms clock\\n'\nprintf 'fatal: cannot open the database' >&2\nexit 3\n",
    );
    chmodSync(cli, 0o755);
    const lines: string[] = [];
    await assert.rejects(
      startDevServer({ cli, ip: '127.0.0.1', port: await freePort(), log: (line) => lines.push(line), startTimeoutMs: 10_000 }),
      (err: Error) => {
        assert.match(err.message, /exited \(code 3\) while starting/);
        assert.match(err.message, /fatal: cannot open the database/);
        return true;
      },
    );
    assert.deepEqual(lines, ['gc 1 @1.0s 0%: 0.1+2+0.1 ms clock', 'fatal: cannot open the database']);
  });
});
