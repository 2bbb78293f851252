import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSealer, NO_SEALING, UnsealError } from '../../src/secrets/sealer.js';
import { isSealed, REDACTED, redactParameters, redactText } from '../../src/shared/redact.js';

const KEY = 'the first sealing key, long enough';
const OLD_KEY = 'the key before it, long enough too';
const parameters = {
  password: 'pa55-word',
  passcode: 1234,
  registry: 'https://robot:url-pa55@registry.example/v2/',
  header: JSON.stringify({ Authorization: ['Bearer tok-123456'], Accept: ['application/json'] }),
  headers: { 'X-Api-Key': ['k-1', 'k-2'] },
  nested: { client_secret: { value: 'cs-1', enabled: true } },
  image: 'library/nginx',
  replicas: 3,
  dry_run: false,
  empty_token: '',
  list: ['plain', 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXX'],
};

/** Every string leaf of a value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

describe('sealing job secrets for Temporal history', () => {
  const sealer = createSealer([KEY]);

  it('seals exactly what the redactor hides, and opens it back as given (types too)', () => {
    const sealed = sealer.sealParameters(parameters);
    const text = JSON.stringify(sealed);
    for (const secret of ['pa55-word', '"1234', ':1234', 'url-pa55', 'tok-123456', 'k-1', 'k-2', 'cs-1', 'XXXXXXXXXXXXXXXXXXXX']) {
      assert.equal(text.includes(secret), false, `${secret} is in the sealed parameters`);
    }
    // What tells nothing stays readable.
    assert.equal(sealed.image, 'library/nginx');
    assert.equal(sealed.replicas, 3);
    assert.equal(sealed.dry_run, false);
    assert.equal(sealed.empty_token, '');
    assert.deepEqual((sealed.nested as { client_secret: { enabled: boolean } }).client_secret.enabled, true);
    assert.equal((sealed.list as string[])[0], 'plain');
    assert.ok(isSealed(sealed.password as string));
    assert.ok(isSealed(sealed.passcode as string), 'a number under a secret key is sealed too');
    assert.deepEqual(sealer.unsealParameters(sealed), parameters);
    // Shown, a sealed value is hidden as any secret.
    assert.deepEqual(
      redactParameters(sealed),
      redactParameters({ ...parameters, registry: REDACTED, header: REDACTED, list: ['plain', REDACTED] }),
    );
  });

  it('each sealing is fresh (a random IV): equal secrets do not show as equal', () => {
    assert.notEqual(sealer.sealText('https://u:p@h.example/'), sealer.sealText('https://u:p@h.example/'));
  });

  it('a hook URL is sealed whole only when it holds a secret', () => {
    assert.equal(
      sealer.sealText('http://core:8080/service/notifications/jobs/webhook/abc'),
      'http://core:8080/service/notifications/jobs/webhook/abc',
    );
    const sealed = sealer.sealText('http://receiver.example/hook?token=hooktok-1234');
    assert.ok(isSealed(sealed));
    assert.equal(redactText(sealed), REDACTED);
    assert.equal(sealer.unsealText(sealed), 'http://receiver.example/hook?token=hooktok-1234');
  });

  it('a value submitted in the sealed form itself is sealed, so it opens as submitted', () => {
    const lookalike = sealer.sealText('https://u:p@h.example/');
    const sealed = sealer.sealParameters({ note: lookalike });
    assert.notEqual(sealed.note, lookalike);
    assert.deepEqual(sealer.unsealParameters(sealed), { note: lookalike });
    assert.equal(sealer.unsealText(sealer.sealText(lookalike)), lookalike);
  });

  it('parameters with nothing secret are returned as they are, on both ways', () => {
    const plain = { image: 'demo', steps: [1, 2], nested: { a: 'b' } };
    assert.equal(sealer.sealParameters(plain), plain, 'sealing allocates nothing when nothing is secret');
    assert.equal(sealer.unsealParameters(plain), plain, 'opening allocates nothing when nothing is sealed');
  });

  it('a rotated key: the new one seals, the old one still opens what it sealed', () => {
    const before = createSealer([OLD_KEY]).sealParameters({ password: 'old-secret' });
    const rotated = createSealer([KEY, OLD_KEY]);
    assert.deepEqual(rotated.unsealParameters(before), { password: 'old-secret' });
    assert.equal(rotated.keyId, sealer.keyId);
    assert.notEqual(createSealer([OLD_KEY]).keyId, rotated.keyId);
  });

  it('resealing takes what an older key sealed under the first key, and leaves the rest as it is', () => {
    const old = createSealer([OLD_KEY]);
    const rotated = createSealer([KEY, OLD_KEY]);
    const before = old.sealParameters({ password: 'p-secret', image: 'demo' });
    const after = rotated.resealParameters(before);
    assert.notEqual(after.password, before.password);
    assert.match(after.password as string, new RegExp(`^sealed:v1:${rotated.keyId}:`));
    assert.deepEqual(sealer.unsealParameters(after), { password: 'p-secret', image: 'demo' }, 'the new key alone opens it');
    assert.equal(rotated.resealParameters(after), after, 'nothing under an older key: the same object');
    const hook = old.sealText('http://h.example/hook?token=tok-123456');
    assert.match(rotated.resealText(hook), new RegExp(`^sealed:v1:${rotated.keyId}:`));
    assert.equal(sealer.unsealText(rotated.resealText(hook)), 'http://h.example/hook?token=tok-123456');
  });

  it('resealing seals a secret stored as given (before sealing was configured), and keeps what the first key sealed', () => {
    const current = sealer.sealParameters({ password: 'sealed-already' });
    const stored = {
      password: current.password,
      api_token: 'plain-token-1',
      passcode: 4321,
      endpoint: 'https://u:pw-123@r.example/',
      image: 'demo',
    };
    const resealed = sealer.resealParameters(stored);
    assert.equal(resealed.password, current.password, 'sealed under the first key: the same string');
    for (const key of ['api_token', 'passcode', 'endpoint']) assert.ok(isSealed(resealed[key] as string), key);
    assert.equal(resealed.image, 'demo');
    assert.deepEqual(sealer.unsealParameters(resealed), { ...stored, password: 'sealed-already' });
    assert.equal(sealer.resealText('http://h.example/hook?token=tok-123456').startsWith('sealed:v1:'), true);
    assert.equal(sealer.resealText('http://core:8080/service/notifications'), 'http://core:8080/service/notifications');
    assert.equal(NO_SEALING.resealParameters(stored), stored, 'without keys nothing changes');
  });

  it('a process without the key refuses, naming the key; an altered value does not open', () => {
    const sealed = sealer.sealParameters({ password: 'x-secret' });
    assert.throws(
      () => createSealer([OLD_KEY]).unsealParameters(sealed),
      (err: unknown) => err instanceof UnsealError && err.message.includes(sealer.keyId!) && /not among/.test(err.message),
    );
    assert.throws(
      () => NO_SEALING.unsealParameters(sealed),
      (err: unknown) => err instanceof UnsealError && /no job\.sealing_keys/.test(err.message),
    );
    const envelope = sealed.password as string;
    const flipped = envelope.slice(0, -3) + (envelope.at(-3) === 'A' ? 'B' : 'A') + envelope.slice(-2);
    assert.throws(
      () => sealer.unsealText(flipped),
      (err: unknown) => err instanceof UnsealError && /altered/.test(err.message),
    );
  });

  it('without keys nothing is sealed', () => {
    assert.equal(NO_SEALING.keyId, undefined);
    assert.deepEqual(NO_SEALING.sealParameters(parameters), parameters);
    assert.equal(NO_SEALING.sealText('https://u:p@h.example/'), 'https://u:p@h.example/');
    assert.ok(strings(NO_SEALING.sealParameters(parameters)).every((s) => !isSealed(s)));
  });
});
