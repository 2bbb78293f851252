import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sdkLogLevel } from '../../src/temporal/install-runtime.js';

it("the SDK's own warnings follow the service log's level: ERROR only when every logger shows nothing below it", () => {
  assert.equal(sdkLogLevel([{ level: 'ERROR' }]), 'ERROR');
  assert.equal(sdkLogLevel([{ level: 'FATAL' }, { level: 'ERROR' }]), 'ERROR');
  assert.equal(sdkLogLevel([{ level: 'ERROR' }, { level: 'INFO' }]), 'WARN');
  assert.equal(sdkLogLevel([{ level: 'WARNING' }]), 'WARN');
});
