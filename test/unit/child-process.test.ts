import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tiedToThisProcess } from '../../src/process/child-process.js';

describe('a child tied to this process (the garbage collector)', () => {
  const fakeSetpriv = (help: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'setpriv-'));
    writeFileSync(join(dir, 'setpriv'), `#!/bin/sh\ncat <<'EOF'\n${help}\nEOF\n`);
    chmodSync(join(dir, 'setpriv'), 0o755);
    return dir;
  };

  it('runs under setpriv --pdeathsig where setpriv has it', () => {
    const dir = fakeSetpriv(' --pdeathsig keep|clear|<signame>  set or clear parent death signal');
    try {
      assert.deepEqual(tiedToThisProcess('docker-registry', ['garbage-collect', 'c.yml'], dir), [
        join(dir, 'setpriv'),
        ['--pdeathsig', 'SIGTERM', '--', 'docker-registry', 'garbage-collect', 'c.yml'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs plain where setpriv is too old for it (util-linux before 2.33), rather than fail every collection', () => {
    const dir = fakeSetpriv(' --reuid <ruid>  set real uid');
    try {
      assert.deepEqual(tiedToThisProcess('docker-registry', ['garbage-collect'], dir), ['docker-registry', ['garbage-collect']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
