import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freeClusterPorts } from '../../src/cluster/cluster-profile.js';

describe('the cluster profile on free ports', () => {
  it('reserves every API port (API i listens on apiPort + i), so PostgreSQL is never given one', async () => {
    // The draws pinned so that PostgreSQL's would land on the second API's port (a 1-in-12,000 draw otherwise).
    const original = Math.random;
    const apiPort = 20_000 + Math.floor(original() * 11_000);
    let calls = 0;
    Math.random = () => {
      calls += 1;
      if (calls === 1) return (apiPort - 20_000 + 0.5) / (12_000 - 1);
      if (calls === 3) return (apiPort + 1 - 20_000 + 0.5) / 12_000;
      return original();
    };
    try {
      const ports = await freeClusterPorts(2);
      assert.equal(ports.apiPort, apiPort);
      assert.ok(
        ports.postgresPort !== apiPort && ports.postgresPort !== apiPort + 1,
        `PostgreSQL on ${ports.postgresPort}, APIs on ${apiPort} and ${apiPort + 1}`,
      );
    } finally {
      Math.random = original;
    }
  });
});
