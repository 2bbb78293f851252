import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { keptSecret } from '../../src/config/kept-secret.js';

describe("npm start's kept secrets (data/dev-core-secret, data/dev-sealing-key)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'kept-secret-'));

  it('makes one the first time (mode 600, told), then reads the same one back', () => {
    const file = join(dir, 'data', 'dev-sealing-key');
    const told: string[] = [];
    const made = keptSecret(file, 32, (secret) => told.push(secret));
    assert.deepEqual(told, [made]);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(
      keptSecret(file, 32, () => assert.fail('made again')),
      made,
    );
    assert.equal(readFileSync(file, 'utf8'), `${made}\n`);
  });

  it('refuses an emptied file (a write on a full disk) instead of sealing with a key derived from nothing', () => {
    const file = join(dir, 'empty-key');
    writeFileSync(file, '\n');
    assert.throws(() => keptSecret(file, 32, () => undefined), /empty-key is empty: delete it/);
  });
});
