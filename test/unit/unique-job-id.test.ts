import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uniqueJobId } from '../../src/api/unique-job-id.js';
import { createHash } from 'node:crypto';
import { createSealer } from '../../src/secrets/sealer.js';
import { canonicalJson } from '../../src/shared/canonical-json.js';

describe('unique job ids', () => {
  it('canonical JSON sorts keys at every depth and keeps array order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, 1], c: null } }), '{"a":{"c":null,"d":[2,1]},"b":1}');
    assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
  });

  it('keeps a __proto__ key (as JSON.parse gives one) in the canonical form, so it tells parameters apart', () => {
    const withKey = JSON.parse('{"vendor_type":"GC","__proto__":{"x":1}}') as Record<string, unknown>;
    assert.equal(canonicalJson(withKey), '{"__proto__":{"x":1},"vendor_type":"GC"}');
    assert.notEqual(uniqueJobId('SCHEDULER', withKey), uniqueJobId('SCHEDULER', { vendor_type: 'GC' }));
  });

  it('derives unique job ids of Harbor form from name and canonical parameters', () => {
    const id = uniqueJobId('DEMO', { a: 1, b: 2 });
    assert.match(id, /^[0-9a-f]{24}$/);
    assert.equal(id, uniqueJobId('DEMO', { b: 2, a: 1 }));
    assert.notEqual(id, uniqueJobId('DEMO', { a: 1, b: 3 }));
    assert.notEqual(id, uniqueJobId('OTHER', { a: 1, b: 2 }));
  });

  it('keys the id of a job with secrets with the sealing key, so its id cannot be checked against guesses of them', () => {
    const parameters = { address: 'http://hook.example/', auth_header: 'Bearer 2387' };
    const plain = createHash('sha256')
      .update(`WEBHOOK\n${canonicalJson(parameters)}`)
      .digest('hex')
      .slice(0, 24);
    const sealer = createSealer(['a sealing key of the deployment']);
    const id = uniqueJobId('WEBHOOK', parameters, sealer);
    assert.match(id, /^[0-9a-f]{24}$/);
    assert.notEqual(id, plain, 'an unkeyed hash of name and parameters: guesses of the secret can be tested offline');
    // Every API replica, sharing the key, gives the same id: still unique.
    assert.equal(
      id,
      uniqueJobId(
        'WEBHOOK',
        { auth_header: 'Bearer 2387', address: 'http://hook.example/' },
        createSealer(['a sealing key of the deployment']),
      ),
    );
    assert.notEqual(id, uniqueJobId('WEBHOOK', parameters, createSealer(['another key'])));
    // A secret too short to mask in logs is the easiest to guess: keyed too.
    const short = { password: 'k9Z', endpoint: 'https://registry.example/v2/' };
    const plainShort = createHash('sha256')
      .update(`TEST_SECRETS\n${canonicalJson(short)}`)
      .digest('hex')
      .slice(0, 24);
    assert.notEqual(uniqueJobId('TEST_SECRETS', short, sealer), plainShort, 'a 3-character password was guessable from the id');
    // Without secrets, or without sealing (they are in the history as given then), the id stays the plain hash.
    assert.equal(uniqueJobId('DEMO', { a: 1 }, sealer), uniqueJobId('DEMO', { a: 1 }));
    assert.equal(uniqueJobId('WEBHOOK', parameters), plain);
  });
});
