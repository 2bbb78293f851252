import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { missingOptionalEntries, platformOf } from '../../scripts/complete-lockfile.js';

describe('package-lock.json', () => {
  it('records every optional platform package, so `npm ci` accepts it (run `npm run lockfile` if not)', () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
    assert.deepEqual(Object.keys(missingOptionalEntries(lock)), []);
  });

  it('reads the platform from a package name', () => {
    assert.deepEqual(platformOf('@swc/core-linux-arm-gnueabihf'), { os: ['linux'], cpu: ['arm'], libc: ['glibc'] });
    assert.deepEqual(platformOf('@swc/core-darwin-arm64'), { os: ['darwin'], cpu: ['arm64'] });
    assert.deepEqual(platformOf('@swc/core-linux-x64-musl'), { os: ['linux'], cpu: ['x64'], libc: ['musl'] });
    assert.deepEqual(platformOf('@msgpackr-extract/msgpackr-extract-win32-x64'), { os: ['win32'], cpu: ['x64'] });
    assert.throws(() => platformOf('left-pad'), /cannot tell the platform/);
  });
});
