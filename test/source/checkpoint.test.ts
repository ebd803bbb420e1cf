import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CheckpointStore, checkpointFile, readCheckpoint } from '../../src/source/checkpoint';
import type { Checkpoint } from '../../src/source/tail';

const at = (offset: number): Checkpoint => ({ dev: '1', ino: '2', offset });

describe('CheckpointStore: when the read position is saved', () => {
  let dir = '';
  let file = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-checkpoint-'));
    file = checkpointFile(dir, 'node/1');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps it under <userDir>/armor-integrations/checkpoints/<id>.json, the id made safe for a file name', () => {
    assert.equal(file, path.join(dir, 'armor-integrations', 'checkpoints', 'node_1.json'));
  });

  it('saves on the first save where reading began, before any alert is a second old, so that a restart re-reads', () => {
    const store = new CheckpointStore(file, 1000);
    store.handedOut(10_000, 100, at(150));
    store.save(10_100, at(150));
    assert.deepEqual(readCheckpoint(file), at(100));
  });

  it('saves the position after an alert only once that alert was handed out at least safeAfterMs ago', () => {
    const store = new CheckpointStore(file, 1000);
    store.save(9_000, at(0));
    store.handedOut(10_000, 0, at(50));
    store.handedOut(10_500, 50, at(90));
    store.save(10_999);
    assert.deepEqual(readCheckpoint(file), at(0), 'nothing is a second old yet');
    store.save(11_000);
    assert.deepEqual(readCheckpoint(file), at(50));
    store.save(11_600);
    assert.deepEqual(readCheckpoint(file), at(90));
  });

  it('keeps the newest position of alerts handed out in the same millisecond', () => {
    const store = new CheckpointStore(file, 1000);
    store.handedOut(10_000, 0, at(50));
    store.handedOut(10_000, 50, at(90));
    store.save(11_000);
    assert.deepEqual(readCheckpoint(file), at(90));
  });

  it('loads a position saved by the previous version (no head fingerprint), and refuses one that is not a position', () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ dev: '7', ino: '8', offset: 9 }));
    assert.deepEqual(new CheckpointStore(file).load(), { dev: '7', ino: '8', offset: 9 });
    fs.writeFileSync(file, JSON.stringify({ dev: 7, ino: '8', offset: 9 }));
    assert.equal(new CheckpointStore(file).load(), undefined);
    fs.writeFileSync(file, '{"dev":"7",');
    assert.equal(new CheckpointStore(file).load(), undefined);
  });

  it('throws what the disk says and saves on the next try', () => {
    const store = new CheckpointStore(path.join(dir, 'not-a-dir'), 0);
    fs.writeFileSync(path.join(dir, 'blocker'), '');
    const blocked = new CheckpointStore(path.join(dir, 'blocker', 'x.json'), 0);
    blocked.handedOut(1, 0, at(5));
    assert.throws(() => blocked.save(2), /ENOTDIR|EEXIST/);
    store.handedOut(1, 0, at(5));
    store.save(2);
    assert.deepEqual(readCheckpoint(path.join(dir, 'not-a-dir')), at(5));
  });
});
