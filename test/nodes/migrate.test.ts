/** nodes/lib/migrate.ts: how a node's saved properties are brought to the current version. */
import assert from 'node:assert/strict';
import redUtil from '@node-red/util';
import { camelType, currentVersion, migrate, versionOf, type Migration } from '../../nodes/lib/migrate';

/** Three steps that each leave a trace, so that order and repetition show. */
const THREE: Migration[] = [
  { version: 1, up: (def) => ({ ...def, steps: [...((def.steps as string[] | undefined) ?? []), 'one'] }) },
  { version: 2, up: ({ rate, ...rest }) => ({ ...rest, pace: rate, steps: [...(rest.steps as string[]), 'two'] }) },
  { version: 3, up: (def) => ({ ...def, pace: Number(def.pace) * 2, steps: [...(def.steps as string[]), 'three'] }) },
];

describe('node property migrations (nodes/lib/migrate)', () => {
  it('brings a def without version (written before versions existed) through every step, in order', () => {
    const def = { id: 'n1', type: 'armor-x', rate: 2 };
    const { def: out, from, future } = migrate(def, THREE);
    assert.equal(from, 0);
    assert.equal(future, undefined);
    assert.deepEqual(out, { id: 'n1', type: 'armor-x', pace: 4, steps: ['one', 'two', 'three'], version: 3 });
    assert.deepEqual(def, { id: 'n1', type: 'armor-x', rate: 2 }, 'the given def is not changed');
  });

  it('applies only the steps after the saved version (a version saved as text counts too)', () => {
    assert.deepEqual(migrate({ rate: 5, steps: ['one'], version: 1 }, THREE).def, { pace: 10, steps: ['one', 'two', 'three'], version: 3 });
    assert.deepEqual(migrate({ pace: 5, steps: [], version: '2' }, THREE).def, { pace: 10, steps: ['three'], version: 3 });
  });

  it('is idempotent: a migrated def, migrated again, stays as it is (the same object)', () => {
    const once = migrate({ rate: 1 }, THREE).def;
    const twice = migrate(once, THREE);
    assert.equal(twice.def, once);
    assert.equal(twice.from, 3);
  });

  it('uses a def from a newer version than it knows as it is, and says so', () => {
    const def = { pace: 7, version: 9 };
    const result = migrate(def, THREE);
    assert.equal(result.def, def);
    assert.equal(result.future, true);
    assert.equal(result.from, 9);
  });

  it('counts a missing, empty, null or non-integer version as 0', () => {
    for (const version of [undefined, '', null, 'x', 1.5, -1]) assert.equal(versionOf({ version }), 0, String(version));
    assert.equal(versionOf({ version: 2 }), 2);
    assert.equal(versionOf({ version: '2' }), 2);
  });

  it('refuses a list whose versions do not go 1, 2, 3...', () => {
    assert.equal(currentVersion([]), 0);
    assert.equal(currentVersion(THREE), 3);
    assert.throws(() => currentVersion([THREE[1], THREE[0]]), /versions must go 1, 2, 3/);
    assert.throws(() => migrate({}, [THREE[0], THREE[2]]), /migration 2 has version 3/);
  });

  it('names settings as Node-RED requires them: the type camel-cased', () => {
    assert.equal(camelType('armor-slack-webhook'), 'armorSlackWebhook');
    assert.equal(camelType('armor-pagerduty-service'), 'armorPagerdutyService');
    assert.equal(camelType('armor-alerts'), 'armorAlerts');
    for (const type of ['armor-integration', 'armor-slack', 'armor-pagerduty', 'x_y z-9'])
      assert.equal(camelType(type), redUtil.util.normaliseNodeTypeName(type));
  });
});
