import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { endpointKey, leaseKey, streamKey } from '../../../src/delivery/shared/keys';

describe('shared endpoint keys', () => {
  const secret = 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX';

  it('names an endpoint by its service and the sha256 of prefix, newline and secret, never the secret', () => {
    const key = endpointKey('armor:', 'slack', secret);
    const hash = createHash('sha256')
      .update('armor:\n' + secret)
      .digest('hex');
    assert.equal(key, `armor:slack:${hash}`);
    assert.ok(!key.includes('hooks.slack.com'));
    assert.ok(!key.includes('XXXXXXXX'));
  });

  it('gives another prefix another hash, and the lease and outbox keys hang off the endpoint key', () => {
    const a = endpointKey('armor:', 'slack', secret);
    const b = endpointKey('other:', 'slack', secret);
    assert.notEqual(a.slice('armor:slack:'.length), b.slice('other:slack:'.length));
    assert.equal(leaseKey(a), a + ':lease');
    assert.equal(streamKey(a), a + ':outbox');
  });
});
