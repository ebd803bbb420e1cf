import assert from 'node:assert/strict';
import { DeliveryQueue, SLACK_POLICY, type FailInfo, type Job, type QueuePolicy } from '../src/delivery-queue';
import { postJson } from '../src/http-sender';
import { answer, hang, rateLimited, startStub, type Stub } from './lib/stub-server';

interface Run {
  queue: DeliveryQueue;
  delivered: Array<{ ids: string[] }>;
  failed: Array<{ id: string; info: FailInfo }>;
  batches: number[];
  settled(n: number, ms?: number): Promise<void>;
}

function run(stub: Stub, policy: Partial<QueuePolicy>, timeoutMs = 2000): Run {
  const delivered: Run['delivered'] = [];
  const failed: Run['failed'] = [];
  const batches: number[] = [];
  let waiters: Array<() => void> = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    w.forEach((f) => f());
  };
  const queue = new DeliveryQueue(
    { ...SLACK_POLICY, jitterMs: 10, ...policy },
    (jobs, signal) => {
      batches.push(jobs.length);
      return postJson('slack', `${stub.base}/services/T0/B0/SECRET`, { text: jobs.map((j) => j.id).join(',') }, { timeoutMs, signal, proxy: null });
    },
    {
      delivered: (jobs) => {
        delivered.push({ ids: jobs.map((j) => j.id) });
        wake();
      },
      failed: (job, info) => {
        failed.push({ id: job.id, info });
        wake();
      },
    },
  );
  const count = () => delivered.reduce((n, d) => n + d.ids.length, 0) + failed.length;
  return {
    queue,
    delivered,
    failed,
    batches,
    settled(n, ms = 10000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${count()} of ${n} jobs settled`)), ms);
        const check = () => (count() >= n ? (clearTimeout(timer), resolve()) : waiters.push(check));
        check();
      });
    },
  };
}

const job = (id: string | number, retries = 3): Job => ({ id: String(id), retries, queuedAt: Date.now(), attempts: 0, notBefore: 0 });

describe('DeliveryQueue against a real local Slack stand-in', () => {
  let stub: Stub | undefined;
  let current: Run | undefined;
  afterEach(async () => {
    current?.queue.close();
    await stub?.close();
    stub = current = undefined;
  });

  it('paces posts to the endpoint\'s rate and burst: a stub enforcing the same limit never answers 429', async () => {
    const limit = rateLimited(20, 3);
    stub = await startStub(limit);
    current = run(stub, { ratePerSec: 20, burst: 3, digestAbove: Infinity });
    for (let i = 0; i < 30; i++) current.queue.push(job(i));
    await current.settled(30);
    assert.equal(limit.refused, 0);
    assert.deepEqual(current.delivered.map((d) => d.ids[0]), Array.from({ length: 30 }, (_, i) => String(i)));
    assert.equal(stub.seen.length, 30);
  });

  it('on 429 waits for Retry-After before posting again, and the alert costs no attempt', async () => {
    let n = 0;
    const times: number[] = [];
    stub = await startStub((req, res, body) => {
      times.push(Date.now());
      if (n++ === 0) res.writeHead(429, { 'Retry-After': '1' }).end('rate_limited');
      else answer(200, 'ok')(req, res, body);
    });
    current = run(stub, { ratePerSec: 100, burst: 5, digestAbove: Infinity });
    current.queue.push(job('a', 0));
    current.queue.push(job('b', 0));
    await current.settled(2);
    assert.deepEqual(current.delivered.map((d) => d.ids), [['a'], ['b']]);
    assert.equal(current.failed.length, 0, 'retries 0, yet a 429 is not a failed attempt');
    assert.ok(times[1] - times[0] >= 1000, `second post ${times[1] - times[0]} ms after the 429`);
    assert.equal(current.queue.stats.rateLimited, 1);
  });

  it('retries 5xx with backoff until the service recovers', async () => {
    let n = 0;
    stub = await startStub((req, res, body) => (n++ < 2 ? answer(503, 'busy')(req, res, body) : answer(200, 'ok')(req, res, body)));
    current = run(stub, { backoffBaseMs: 50, backoffMaxMs: 200, digestAbove: Infinity });
    current.queue.push(job('x', 3));
    await current.settled(1);
    assert.deepEqual(current.delivered.map((d) => d.ids), [['x']]);
    assert.equal(stub.seen.length, 3);
    assert.equal(current.queue.stats.retried, 2);
  });

  it('fails a job whose retries are spent, with the last error and the attempt count', async () => {
    stub = await startStub(answer(500, 'internal'));
    current = run(stub, { backoffBaseMs: 20, backoffMaxMs: 50 });
    current.queue.push(job('y', 2));
    await current.settled(1);
    assert.equal(stub.seen.length, 3);
    assert.equal(current.failed[0].info.kind, 'transient');
    assert.equal(current.failed[0].info.attempts, 3);
    assert.match(current.failed[0].info.error, /HTTP 500/);
  });

  it('fails at once on a permanent answer (404 no_service), without retrying', async () => {
    stub = await startStub(answer(404, 'no_service'));
    current = run(stub, {});
    current.queue.push(job('z', 5));
    await current.settled(1);
    assert.equal(stub.seen.length, 1);
    assert.deepEqual(
      { kind: current.failed[0].info.kind, status: current.failed[0].info.status, attempts: current.failed[0].info.attempts },
      { kind: 'permanent', status: 404, attempts: 1 },
    );
    assert.equal(JSON.stringify(current.failed).includes('SECRET'), false);
  });

  it('gives up on a job at its delivery deadline, even with retries left', async () => {
    stub = await startStub(hang);
    current = run(stub, { deadlineMs: 300, backoffBaseMs: 50, backoffMaxMs: 50 }, 100);
    current.queue.push(job('late', 1000));
    await current.settled(1);
    assert.equal(current.failed[0].id, 'late');
    assert.equal(current.failed[0].info.kind, 'transient');
  });

  it('combines the waiting jobs into one digest post when more than digestAbove are ready', async () => {
    stub = await startStub(answer(200, 'ok'));
    current = run(stub, { ratePerSec: 2, burst: 1, digestAbove: 5 });
    for (let i = 0; i < 40; i++) current.queue.push(job(i));
    await current.settled(40);
    const all = current.delivered.flatMap((d) => d.ids);
    assert.deepEqual([...all].sort((a, b) => Number(a) - Number(b)), Array.from({ length: 40 }, (_, i) => String(i)));
    assert.equal(current.batches[0], 1, 'the first alert goes alone');
    assert.equal(current.batches[1], 39, 'the 39 waiting ones go in one digest');
    assert.equal(stub.seen.length, 2);
  });

  it('stops promptly on close, leaving unfinished jobs unreported (they stay in the outbox)', async () => {
    stub = await startStub(hang);
    current = run(stub, {});
    current.queue.push(job('h'));
    await new Promise((r) => setTimeout(r, 50));
    current.queue.close();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(current.delivered.length + current.failed.length, 0);
  });
});
