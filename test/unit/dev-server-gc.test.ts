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
    // Either variable makes the policy the operator's: ours must not complete it (GOMEMLIMIT=off plus GOGC=off is no GC at all).
    const limitOnly = devServerEnv({}, { GOMEMLIMIT: 'off' });
    assert.equal(limitOnly.GOGC, undefined);
    assert.equal(limitOnly.GOMEMLIMIT, 'off');
    const gcOnly = devServerEnv({}, { GOGC: '100' });
    assert.equal(gcOnly.GOGC, '100');
    assert.equal(gcOnly.GOMEMLIMIT, undefined);
    // An empty value is unset, as everywhere in this project's environment handling.
    assert.equal(devServerEnv({}, { GOGC: '' }).GOGC, 'off');
  });

  let server: DevServer | undefined;
  after(async () => server?.stop());

  it('reach the server process itself', async () => {
    const cli = await locateTemporalCli({ log: () => undefined });
    server = await startDevServer({ cli, ip: '127.0.0.1', port: await freePort(), goGc: '300', goMemoryLimit: '768MiB' });
    const environ = readFileSync(`/proc/${server.process.pid}/environ`, 'utf8').split('\0');
    // An operator's GOGC or GOMEMLIMIT in the runner's environment would win by design.
    const expected = process.env.GOGC || process.env.GOMEMLIMIT ? undefined : ['GOGC=300', 'GOMEMLIMIT=768MiB'];
    for (const entry of expected ?? []) assert.ok(environ.includes(entry), `${entry} in the server environment`);
  });
});
