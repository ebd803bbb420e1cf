import assert from 'node:assert/strict';
import { DedupWindow, defaultDedupKey, similarNote } from '../../src/delivery/dedup';

describe('dedup window and its default key', () => {
  it('keys an alert by <rule.id>/<agent.id>, strings and numbers as written, a missing part empty', () => {
    assert.equal(defaultDedupKey({ rule: { id: '5710' }, agent: { id: '001' } }), '5710/001');
    assert.equal(defaultDedupKey({ rule: { id: 5710 }, agent: { id: 1 } }), '5710/1');
    assert.equal(defaultDedupKey({ rule: { id: '5710' } }), '5710/');
    assert.equal(defaultDedupKey(null), '/');
    assert.equal(defaultDedupKey('not an alert'), '/');
  });

  it('keeps two different malformed ids (objects, arrays) apart instead of keying both as [object Object]', () => {
    const a = defaultDedupKey({ rule: { id: { x: 1 } }, agent: { id: '001' } });
    const b = defaultDedupKey({ rule: { id: { x: 2 } }, agent: { id: '001' } });
    const c = defaultDedupKey({ rule: { id: [1, 2] }, agent: { id: '001' } });
    assert.notEqual(a, b);
    assert.notEqual(a, c);
    assert.ok(!a.includes('[object Object]'), a);
  });

  it('holds back repeats within the window, counts them, and reports them when the window ends', () => {
    const w = new DedupWindow(1000);
    assert.deepEqual(w.admit('k', 'first', 0), { similar: 0 });
    assert.equal(w.admit('k', 'second', 100), null);
    assert.equal(w.admit('k', 'third', 900), null);
    assert.deepEqual(w.sweep(999), []);
    assert.deepEqual(w.sweep(1000), [{ key: 'k', similar: 2, since: 100, last: 'third' }]);
    assert.equal(w.size, 0);
    assert.equal(similarNote(2, Date.UTC(2026, 11, 4, 9, 5)), '+2 similar since 09:05 UTC');
    assert.equal(similarNote(0), '');
  });

  it('lets the next alert after the window carry the count when it comes before the sweep', () => {
    const w = new DedupWindow(1000);
    w.admit('k', 'first', 0);
    w.admit('k', 'second', 500);
    assert.deepEqual(w.admit('k', 'after', 1200), { similar: 1, since: 500 });
    assert.deepEqual(w.sweep(5000), []);
  });
});
