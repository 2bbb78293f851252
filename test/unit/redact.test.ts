import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskSecrets, REDACTED, redactParameters, redactText, redactValue, secretValues } from '../../src/shared/redact.js';

describe('redaction of credentials', () => {
  it('hides values under secret-named keys, deep, and leaves the rest', () => {
    assert.deepEqual(
      redactParameters({
        password: 'p',
        passwd: 'p',
        registry: { username: 'robot', Password: 'x', api_key: 'k', apiKey: 'k' },
        tokens: [{ access_token: 't' }],
        authorization: 'Bearer x',
        passport: 'kept',
        dry_run: true,
        secret_enabled: false,
        empty_password: '',
      }),
      {
        password: REDACTED,
        passwd: REDACTED,
        registry: { username: 'robot', Password: REDACTED, api_key: REDACTED, apiKey: REDACTED },
        tokens: [{ access_token: REDACTED }],
        authorization: REDACTED,
        passport: 'kept',
        dry_run: true,
        secret_enabled: false,
        empty_password: '',
      },
    );
  });

  it('takes password anywhere in a key, and hides every value under a secret-named key that holds an object', () => {
    assert.deepEqual(redactParameters({ password_b64: 'aHVudGVyMg==', passwordFile: 'hunter2-file', db_password_old: 'hunter3x' }), {
      password_b64: REDACTED,
      passwordFile: REDACTED,
      db_password_old: REDACTED,
    });
    assert.deepEqual(
      redactParameters({
        credential: { type: 'basic', value: 's3cr3t-value', rotate: true },
        token: { value: 'tok-123456', also: [7, ''] },
      }),
      { credential: { type: REDACTED, value: REDACTED, rotate: true }, token: { value: REDACTED, also: [REDACTED, ''] } },
    );
    const secrets = secretValues({ token: { value: 'tok-123456' }, db_password_old: 'hunter3x' });
    assert.ok(secrets.includes('tok-123456') && secrets.includes('hunter3x'), secrets.join(' '));
    assert.equal(maskSecrets('loaded tok-123456 and hunter3x', secrets), `loaded ${REDACTED} and ${REDACTED}`);
  });

  it('hides URL passwords and token-like query values inside any string', () => {
    assert.equal(redactText('https://robot:s3cret@reg.example/v2/'), `https://robot:${REDACTED}@reg.example/v2/`);
    assert.equal(redactText('see postgres://u:p%40ss@db:5432/x now'), `see postgres://u:${REDACTED}@db:5432/x now`);
    assert.equal(redactText('https://user@host/path'), `https://${REDACTED}@host/path`);
    assert.equal(redactText('git https://ghp_abcdefghijklmnop0123@github.com/o/r.git'), `git https://${REDACTED}@github.com/o/r.git`);
    assert.equal(redactText('https://host?mail=a@b.example'), 'https://host?mail=a@b.example', 'an @ in the query is not a userinfo');
    assert.equal(
      redactText('https://h/x?page=2&access_token=abc&sig=def#f'),
      `https://h/x?page=2&access_token=${REDACTED}&sig=${REDACTED}#f`,
    );
    assert.equal(redactText('no url here: token=abc'), 'no url here: token=abc');
  });

  it('collects the secret values a job got, longest first, and masks them in free text', () => {
    const secrets = secretValues({
      password: 'hunter22',
      url: 'https://u:urlpass@h/?token=qtok1',
      n: { client_secret: 'cs-1234' },
      note: 'abc',
    });
    assert.deepEqual(secrets, ['hunter22', 'cs-1234', 'urlpass', 'qtok1']);
    assert.equal(maskSecrets('login hunter22 failed (cs-1234)', secrets), `login ${REDACTED} failed (${REDACTED})`);
    assert.deepEqual(secretValues({ password: 'abc' }), [], 'values under 4 characters would mask ordinary words');
    assert.deepEqual(secretValues({ repo: 'https://ghp_abcdefghijklmnop0123@github.com/o/r.git', mirror: 'https://admin@h/x' }), [
      'ghp_abcdefghijklmnop0123',
    ]);
  });

  it('hides the values of a secret-named key given as a list, as HTTP headers are', () => {
    assert.deepEqual(redactParameters({ header: { Authorization: ['Bearer s3cr3t'], 'Content-Type': ['application/json'] } }), {
      header: { Authorization: [REDACTED], 'Content-Type': ['application/json'] },
    });
    assert.deepEqual(secretValues({ header: { Authorization: ['Bearer s3cr3t'] } }), ['Bearer s3cr3t']);
  });

  it('looks into parameters passed as JSON text, as Harbor core passes a WEBHOOK header', () => {
    const header = JSON.stringify({ 'Content-Type': ['application/json'], Authorization: ['Bearer s3cr3t'] });
    const shown = redactParameters({ header, payload: '{"type":"PUSH_ARTIFACT"}', note: '[not json' });
    assert.deepEqual(JSON.parse(shown.header as string), { 'Content-Type': ['application/json'], Authorization: [REDACTED] });
    assert.equal(shown.payload, '{"type":"PUSH_ARTIFACT"}', 'JSON text with nothing to hide is left as written');
    assert.equal(shown.note, '[not json');
    assert.deepEqual(secretValues({ header }), ['Bearer s3cr3t']);
  });

  it('hides cookies, session ids, bearer and auth keys, and query values named like secrets', () => {
    assert.deepEqual(
      redactParameters({
        Cookie: 'a=b',
        sessionId: 's1',
        session: 's2',
        passcode: 'p1',
        bearer: 'b1',
        'X-Auth-Key': 'k1',
        key: 'repo',
        sort_key: 'name',
      }),
      {
        Cookie: REDACTED,
        sessionId: REDACTED,
        session: REDACTED,
        passcode: REDACTED,
        bearer: REDACTED,
        'X-Auth-Key': REDACTED,
        key: 'repo',
        sort_key: 'name',
      },
    );
    for (const [url, shown] of [
      ['https://h/x?client_secret=abc&page=2', `https://h/x?client_secret=${REDACTED}&page=2`],
      ['https://h/x?key=abc', `https://h/x?key=${REDACTED}`],
      ['https://s3/b/o?X-Amz-Signature=abcd&X-Amz-Date=1', `https://s3/b/o?X-Amz-Signature=${REDACTED}&X-Amz-Date=1`],
      ['https://h/x?private_token=zz&auth=q1', `https://h/x?private_token=${REDACTED}&auth=${REDACTED}`],
      ['https://h/x?monkey=banana&sort=asc', 'https://h/x?monkey=banana&sort=asc'],
      ['https://u:p@ss@host/x', `https://u:${REDACTED}@host/x`],
    ]) {
      assert.equal(redactText(url!), shown, url);
    }
  });

  it("hides other chat services' incoming-webhook paths, and leaves ordinary /hooks/ URLs alone", () => {
    const discord = 'https://discord.com/api/webhooks/112233445566/AbCdEf-secret_token_value';
    const teams = 'https://contoso.webhook.office.com/webhookb2/0000-1111@2222/IncomingWebhook/abc/def';
    const mattermost = 'https://chat.example.com/hooks/xjc8qz7nbfgd5ptkq3mrwy1abc';
    for (const [address, kept] of [
      [discord, 'https://discord.com/api/webhooks/'],
      [teams, 'https://contoso.webhook.office.com/webhookb2/'],
      [mattermost, 'https://chat.example.com/hooks/'],
    ] as const) {
      assert.equal(redactText(`POST ${address} failed`), `POST ${kept}${REDACTED} failed`);
      const secrets = secretValues({ address });
      assert.equal(maskSecrets(`posting to ${address}`, secrets), `posting to ${kept}${REDACTED}`);
    }
    assert.equal(redactText('http://127.0.0.1:9000/hooks/job-status'), 'http://127.0.0.1:9000/hooks/job-status');
  });

  it('masks Rocket.Chat’s /hooks/<id>/<token> and Discord’s versioned /api/v10/webhooks/, not a named receiver', () => {
    const rocket = 'https://chat.example.com/hooks/6hPj8rAvZzCgGvLhM/w9mKvgqPHN4DqcK3yoWafv4c5s4pT8ZbeQBaRqrMTcmKNYmN';
    assert.equal(redactText(rocket), `https://chat.example.com/hooks/${REDACTED}`);
    const discord = 'https://discord.com/api/v10/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEf';
    assert.equal(redactText(discord), `https://discord.com/api/v10/webhooks/${REDACTED}`);
    const named = 'https://ci.example.com/hooks/harbor-notification-receiver';
    assert.equal(redactText(named), named);
    assert.deepEqual(secretValues({ address: named }), []);
  });

  it('hides URL credentials however long (cloud tokens run past 2 KB)', () => {
    const token = 'eyJ' + 'x'.repeat(2600);
    assert.equal(redactText(`https://robot:${token}@registry.example.com/v2/`), `https://robot:${REDACTED}@registry.example.com/v2/`);
    assert.equal(redactText(`https://${token}@git.example.com/r.git`), `https://${REDACTED}@git.example.com/r.git`);
    assert.ok(secretValues({ url: `https://robot:${token}@registry.example.com/` }).includes(token));
  });

  it('takes time in proportion to its input, whatever the text (it runs on the API’s loop and in workflow code)', () => {
    // Each took seconds to minutes when a pattern could scan to the end from every start.
    for (const text of ['a.'.repeat(100_000) + '=', '?'.repeat(200_000) + '=', 'a://' + 'b:'.repeat(100_000), 'http://'.repeat(30_000)]) {
      const started = performance.now();
      redactValue({ text, nested: JSON.stringify({ url: text }) });
      secretValues({ text });
      const took = performance.now() - started;
      assert.ok(took < 2000, `${took.toFixed(0)} ms on ${JSON.stringify(text.slice(0, 12))}…`);
    }
  });

  it("hides a Slack incoming webhook's path, its credential, in stats and in the log", () => {
    const address = 'https://hooks.slack.com/services/T000/B000/XXXXsecret';
    assert.equal(redactText(address), `https://hooks.slack.com/services/${REDACTED}`);
    assert.deepEqual(redactParameters({ address }), { address: `https://hooks.slack.com/services/${REDACTED}` });
    const secrets = secretValues({ address });
    assert.equal(maskSecrets(`POST ${address} failed`, secrets), `POST https://hooks.slack.com/services/${REDACTED} failed`);
  });

  it('masks a secret as JSON escapes it, once or twice, as a check-in of the parameters shows it', () => {
    const password = 'pa"ss\\word';
    const secrets = secretValues({ password, header: JSON.stringify({ Authorization: [password] }) });
    assert.equal(maskSecrets(JSON.stringify({ password }), secrets), `{"password":"${REDACTED}"}`);
    const twice = JSON.stringify({ header: JSON.stringify({ Authorization: [password] }) });
    assert.ok(!maskSecrets(twice, secrets).includes('ss'), maskSecrets(twice, secrets));
  });

  it('keeps JSON text JSON: a quoted URL inside a JSON string loses its token, not the escape of the quote after it', () => {
    // A batch target's report is a check-in of JSON text, redacted as text: a broken escape made it unreadable, report and all.
    for (const url of [
      'https://registry.example/v2/_catalog?access_token=abc123',
      'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX',
    ]) {
      const text = JSON.stringify({ events: [`GET "${url}" answered 401`], results: { value: 1 } });
      const redacted = redactText(text);
      const parsed = JSON.parse(redacted) as { events: string[]; results: { value: number } };
      assert.equal(parsed.results.value, 1);
      assert.ok(parsed.events[0]!.includes(REDACTED) && parsed.events[0]!.endsWith('" answered 401'), parsed.events[0]);
      assert.ok(!redacted.includes('abc123') && !redacted.includes('XXXXXXXX'), redacted);
    }
  });
});
