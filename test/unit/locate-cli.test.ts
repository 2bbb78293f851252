import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { cachedCliPath, CliNotFoundError, locateTemporalCli } from '../../src/temporal/locate-cli.js';

function fakeBinary(path: string) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, '#!/bin/sh\necho fake\n');
  chmodSync(path, 0o755);
  return path;
}

describe('locating the Temporal CLI', () => {
  const root = mkdtempSync(join(tmpdir(), 'cli-'));
  const onPath = fakeBinary(join(root, 'bin', 'temporal'));
  const cacheHome = join(root, 'cache');
  const cached = fakeBinary(cachedCliPath({ XDG_CACHE_HOME: cacheHome }));

  it('prefers $TEMPORAL_CLI, then PATH, then the cache', async () => {
    const explicit = fakeBinary(join(root, 'explicit', 'temporal'));
    const env = { TEMPORAL_CLI: explicit, PATH: dirname(onPath), XDG_CACHE_HOME: cacheHome };
    assert.equal(await locateTemporalCli({ env }), explicit);
    assert.equal(await locateTemporalCli({ env: { ...env, TEMPORAL_CLI: '' } }), onPath);
    assert.equal(await locateTemporalCli({ env: { PATH: '', XDG_CACHE_HOME: cacheHome } }), cached);
  });

  it('keeps the cache outside the repository, keyed by version', () => {
    assert.equal(cachedCliPath({ XDG_CACHE_HOME: '/c' }), '/c/jobservice/temporal-cli/v1.5.1/temporal');
    assert.equal(cachedCliPath({ HOME: '/home/x' }), '/home/x/.cache/jobservice/temporal-cli/v1.5.1/temporal');
  });

  it('rejects a $TEMPORAL_CLI that is not executable', async () => {
    await assert.rejects(locateTemporalCli({ env: { TEMPORAL_CLI: join(root, 'none') } }), CliNotFoundError);
  });

  it('says exactly what to install when nothing is found and no build is allowed', async () => {
    await assert.rejects(
      locateTemporalCli({ env: { PATH: '', XDG_CACHE_HOME: join(root, 'empty') }, allowBuild: false }),
      /go install github\.com\/temporalio\/cli\/cmd\/temporal@v1\.5\.1/,
    );
  });
});

// Temporal's installer puts the CLI at ~/.temporalio/bin/temporal: TEMPORAL_CLI=~/.temporalio/bin is an easy slip.
describe('a directory is not the CLI', () => {
  it('TEMPORAL_CLI naming a directory is refused, not spawned (npm start died on an unhandled spawn EACCES)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cli-dir-'));
    const dir = join(root, '.temporalio', 'bin');
    mkdirSync(dir, { recursive: true });
    await assert.rejects(locateTemporalCli({ env: { TEMPORAL_CLI: dir, PATH: '' }, allowBuild: false }), CliNotFoundError);
  });

  it('a directory named temporal on PATH does not shadow the binary further on', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cli-dir-'));
    mkdirSync(join(root, 'a', 'temporal'), { recursive: true });
    const binary = fakeBinary(join(root, 'b', 'temporal'));
    assert.equal(await locateTemporalCli({ env: { PATH: `${join(root, 'a')}:${join(root, 'b')}` }, allowBuild: false }), binary);
  });
});
