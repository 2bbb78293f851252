import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { devServerEnv } from '../../src/temporal/dev-server-gc.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { locateTemporalCli } from '../../src/temporal/locate-cli.js';
import { freePort } from '../../src/process/free-port.js';

describe("the embedded server's Go GC settings", () => {
  it('default to a memory budget, take the options, and leave an operator’s GOGC and GOMEMLIMIT alone', () => {
    const defaults = devServerEnv({}, { PATH: '/bin' });
    assert.equal(defaults.GOGC, 'off');
    assert.equal(defaults.GOMEMLIMIT, '2GiB');
    assert.equal(defaults.PATH, '/bin');
    const chosen = devServerEnv({ goGc: '200', goMemoryLimit: '1GiB' }, {});
    assert.equal(chosen.GOGC, '200');
    assert.equal(chosen.GOMEMLIMIT, '1GiB');
    const operator = devServerEnv({ goGc: '200', goMemoryLimit: '1GiB' }, { GOGC: '50', GOMEMLIMIT: '3GiB' });
    assert.equal(operator.GOGC, '50');
    assert.equal(operator.GOMEMLIMIT, '3GiB');
  });

  let server: DevServer | undefined;
  after(async () => server?.stop());

  it('reach the server process itself', async () => {
    const cli = await locateTemporalCli({ log: () => undefined });
    server = await startDevServer({ cli, ip: '127.0.0.1', port: await freePort(), goGc: '300', goMemoryLimit: '768MiB' });
    const environ = readFileSync(`/proc/${server.process.pid}/environ`, 'utf8').split('\0');
    // The test runner's own GOGC, if any, would win by design; this run's environment has none set.
    assert.ok(environ.includes(`GOGC=${process.env.GOGC || '300'}`), 'GOGC in the server environment');
    assert.ok(environ.includes(`GOMEMLIMIT=${process.env.GOMEMLIMIT || '768MiB'}`), 'GOMEMLIMIT in the server environment');
  });
});
