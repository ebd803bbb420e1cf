import assert from 'node:assert/strict';
import { DeliveryQueue, retryDelay, type FailInfo, type Job, type QueuePolicy } from '../../src/delivery/queue';
import { pagerduty, slack } from '../../src/services';
import { postJson, type SendResult } from '../../src/delivery/sender';
import { answer, hang, rateLimited, startStub, type Stub } from '../lib/stub-server';

interface Run {
  queue: DeliveryQueue;
  delivered: Array<{ ids: number[] }>;
  failed: Array<{ id: number; info: FailInfo }>;
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
    { ...slack.policy, jitterMs: 10, ...policy },
    (jobs, signal) => {
      batches.push(jobs.length);
      return postJson(
        slack,
        `${stub.base}/services/T0/B0/SECRET`,
        { text: jobs.map((j) => j.id).join(',') },
        { timeoutMs, signal, proxy: null },
      );
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

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 2))) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${String(cond)}`);
  }
}

const job = (id: number, retries = 3, queuedAt = Date.now()): Job => ({ id, retries, queuedAt, attempts: 0, notBefore: 0 });

describe('DeliveryQueue against a real local Slack stand-in', () => {
  let stub: Stub | undefined;
  let current: Run | undefined;
  afterEach(async () => {
    current?.queue.close();
    await stub?.close();
    stub = current = undefined;
  });

  it("paces posts to the endpoint's rate and burst: a stub enforcing the same limit never answers 429", async () => {
    const limit = rateLimited(20, 3);
    stub = await startStub(limit);
    current = run(stub, { ratePerSec: 20, burst: 3, digestAbove: Infinity });
    for (let i = 0; i < 30; i++) current.queue.push(job(i));
    await current.settled(30);
    assert.equal(limit.refused, 0);
    assert.deepEqual(
      current.delivered.map((d) => d.ids[0]),
      Array.from({ length: 30 }, (_, i) => i),
    );
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
    current.queue.push(job(1, 0));
    current.queue.push(job(2, 0));
    await current.settled(2);
    assert.deepEqual(
      current.delivered.map((d) => d.ids),
      [[1], [2]],
    );
    assert.equal(current.failed.length, 0, 'retries 0, yet a 429 is not a failed attempt');
    assert.ok(times[1] - times[0] >= 1000, `second post ${times[1] - times[0]} ms after the 429`);
    assert.equal(current.queue.stats.rateLimited, 1);
  });

  it('retries 5xx with backoff until the service recovers', async () => {
    let n = 0;
    stub = await startStub((req, res, body) => (n++ < 2 ? answer(503, 'busy')(req, res, body) : answer(200, 'ok')(req, res, body)));
    current = run(stub, { backoffBaseMs: 50, backoffMaxMs: 200, digestAbove: Infinity });
    current.queue.push(job(1, 3));
    await current.settled(1);
    assert.deepEqual(
      current.delivered.map((d) => d.ids),
      [[1]],
    );
    assert.equal(stub.seen.length, 3);
    assert.equal(current.queue.stats.retried, 2);
  });

  it('fails a job whose retries are spent, with the last error and the attempt count', async () => {
    stub = await startStub(answer(500, 'internal'));
    current = run(stub, { backoffBaseMs: 20, backoffMaxMs: 50 });
    current.queue.push(job(1, 2));
    await current.settled(1);
    assert.equal(stub.seen.length, 3);
    assert.equal(current.failed[0].info.kind, 'transient');
    assert.equal(current.failed[0].info.attempts, 3);
    assert.match(current.failed[0].info.error, /HTTP 500/);
  });

  it('fails at once on a permanent answer (404 no_service), without retrying', async () => {
    stub = await startStub(answer(404, 'no_service'));
    current = run(stub, {});
    current.queue.push(job(1, 5));
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
    current.queue.push(job(7, 1000));
    await current.settled(1);
    assert.equal(current.failed[0].id, 7);
    assert.equal(current.failed[0].info.kind, 'transient');
  });

  it('combines the waiting jobs into one digest post when more than digestAbove are ready', async () => {
    stub = await startStub(answer(200, 'ok'));
    current = run(stub, { ratePerSec: 2, burst: 1, digestAbove: 5 });
    for (let i = 0; i < 40; i++) current.queue.push(job(i));
    await current.settled(40);
    const all = current.delivered.flatMap((d) => d.ids);
    assert.deepEqual(
      [...all].sort((a, b) => a - b),
      Array.from({ length: 40 }, (_, i) => i),
    );
    assert.equal(current.batches[0], 1, 'the first alert goes alone');
    assert.equal(current.batches[1], 39, 'the 39 waiting ones go in one digest');
    assert.equal(stub.seen.length, 2);
  });

  it('puts a retried job back in the queue order as of its retry: after the jobs queued before, before those queued after', async () => {
    let n = 0;
    stub = await startStub((req, res, body) => (n++ === 0 ? answer(503, 'busy') : answer(200, 'ok'))(req, res, body));
    const q = run(stub, { ratePerSec: 4, burst: 1, backoffBaseMs: 20, backoffMaxMs: 20, digestAbove: Infinity });
    current = q;
    q.queue.push(job(1));
    q.queue.push(job(2));
    await until(() => q.queue.stats.retried === 1); // 1 failed and waits (20 ms); no token for 250 ms
    q.queue.push(job(3));
    await q.settled(3);
    assert.deepEqual(
      q.delivered.map((d) => d.ids),
      [[2], [1], [3]],
    );
    assert.deepEqual(
      stub.seen.map((s) => JSON.parse(s.body).text),
      ['1', '2', '1', '3'],
    );
  });

  it('digests take the ready jobs in queue order, at most digestMax a post, and single posts again at digestAbove or fewer', async () => {
    stub = await startStub(answer(200, 'ok'));
    current = run(stub, { ratePerSec: 20, burst: 1, digestAbove: 5, digestMax: 4 });
    for (let i = 0; i < 12; i++) current.queue.push(job(i));
    await current.settled(12);
    assert.deepEqual(
      current.delivered.map((d) => d.ids),
      [[0], [1, 2, 3, 4], [5, 6, 7, 8], [9], [10], [11]],
    );
    assert.equal(current.queue.stats.digests, 2);
    assert.equal(current.queue.stats.waiting, 0);
  });

  it('fails the jobs past their deadline before the next post, oldest first and each once, and posts the others', async () => {
    stub = await startStub(answer(200, 'ok'));
    current = run(stub, { ratePerSec: 1000, burst: 1, deadlineMs: 60_000, digestAbove: Infinity });
    const expired = Date.now() - 61_000;
    current.queue.push(job(1)); // takes the one token: the others wait
    for (const [id, earlier] of [
      [2, 1000],
      [3, 3000],
      [4, 0],
      [5, 2000],
    ])
      current.queue.push(job(id, 3, expired - earlier));
    current.queue.push({ ...job(9, 3, expired - 500), notBefore: Date.now() + 60_000 }); // in backoff
    current.queue.push(job(6));
    assert.equal(current.queue.stats.waiting, 6);
    await current.settled(7);
    assert.deepEqual(
      current.delivered.map((d) => d.ids),
      [[1], [6]],
    );
    assert.deepEqual(
      current.failed.map((f) => f.id),
      [3, 5, 2, 9, 4],
    );
    for (const { info } of current.failed) {
      assert.deepEqual({ kind: info.kind, attempts: info.attempts }, { kind: 'transient', attempts: 0 });
      assert.match(info.error, /^not delivered within 60 s$/);
    }
    assert.deepEqual(
      stub.seen.map((s) => JSON.parse(s.body).text),
      ['1', '6'],
    );
    assert.equal(current.queue.stats.waiting, 0);
  });

  it('stays cheap with 200,000 jobs waiting: each post takes the next digestMax in order, no scan of the whole queue', async function () {
    this.timeout(60000);
    const N = 200_000;
    stub = await startStub(answer(200, 'ok'));
    current = run(stub, { ratePerSec: 1000, burst: 1, digestAbove: 5, digestMax: 5000 });
    const started = Date.now();
    for (let i = 0; i < N; i++) current.queue.push(job(i));
    assert.equal(current.queue.stats.waiting, N - 1);
    await current.settled(N, 55000);
    const seconds = (Date.now() - started) / 1000;
    assert.deepEqual(current.batches, [1, ...Array<number>(39).fill(5000), 4999]);
    let next = 0;
    for (const id of current.delivered.flatMap((d) => d.ids)) assert.equal(id, next++, 'delivered in queue order');
    assert.equal(next, N);
    assert.equal(current.queue.stats.waiting, 0);
    // splicing 5,000 jobs out of a 200,000-job array per post took about a second a post
    assert.ok(seconds < 10, `${seconds} s for ${current.batches.length} posts`);
  });

  it('under mixed answers (200, 503, 429, 404) and deadlines ends every job exactly once, one post at a time, first attempts in push order', async function () {
    this.timeout(30000);
    let seed = 12345;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let open = 0;
    let overlapped = 0;
    stub = await startStub((req, res, body) => {
      if (open++ > 0) overlapped++;
      res.on('finish', () => open--);
      const r = rnd();
      if (r < 0.45) answer(200, 'ok')(req, res, body);
      else if (r < 0.85) answer(503, 'busy')(req, res, body);
      else if (r < 0.93) answer(429, 'rate_limited', { 'Retry-After': '0' })(req, res, body);
      else answer(404, 'no_service')(req, res, body);
    });
    const q = run(stub, { ratePerSec: 400, burst: 4, digestAbove: 5, digestMax: 12, backoffBaseMs: 5, backoffMaxMs: 40, deadlineMs: 1500 });
    current = q;
    const N = 300;
    const retries = (id: number) => id % 4;
    for (let id = 0; id < N; id++) {
      if (id > 0 && id % 50 === 0) await new Promise((r) => setTimeout(r, 30));
      q.queue.push(job(id, retries(id), id % 10 === 9 ? Date.now() - 1400 : Date.now()));
    }
    await q.settled(N, 25000);

    const ended = [...q.delivered.flatMap((d) => d.ids), ...q.failed.map((f) => f.id)].sort((a, b) => a - b);
    assert.deepEqual(
      ended,
      Array.from({ length: N }, (_, id) => id),
      'each job delivered or failed, exactly once',
    );
    assert.equal(overlapped, 0, 'a post while another was in flight');
    assert.equal(q.queue.stats.waiting, 0);
    for (const { id, info } of q.failed)
      assert.ok(info.attempts <= retries(id) + 1, `job ${id}: ${info.attempts} attempts, retries ${retries(id)}`);
    const posted = stub.seen.flatMap((s) => String(JSON.parse(s.body).text).split(',').map(Number));
    const first = posted.filter((id, k) => posted.indexOf(id) === k);
    assert.deepEqual(
      first,
      [...first].sort((a, b) => a - b),
      'first attempts in push order',
    );
    const kinds = new Set(q.failed.map((f) => f.info.kind));
    assert.ok(
      q.delivered.length > 0 && kinds.has('permanent') && kinds.has('transient'),
      `${q.delivered.length} posts delivered, failures ${[...kinds]}`,
    );
    assert.ok(q.queue.stats.rateLimited > 0 && q.queue.stats.digests > 0 && q.queue.stats.retried > 0);
  });

  it('stops promptly on close: the post in flight is cut off at once, nothing more is posted and nothing is reported (the jobs stay in the outbox)', async () => {
    const ANSWER_AFTER_MS = 300;
    /** When the client let go of each request before it was answered. */
    const cutOff: number[] = [];
    stub = await startStub((req, res, body) => {
      res.on('close', () => {
        if (!res.writableFinished) cutOff.push(Date.now());
      });
      setTimeout(() => answer(200, 'ok')(req, res, body), ANSWER_AFTER_MS);
    });
    const q = run(stub, { ratePerSec: 1000, burst: 1000, digestAbove: Infinity });
    current = q;
    for (const id of [1, 2, 3]) q.queue.push(job(id));
    await until(() => stub!.seen.length === 1);
    const closedAt = Date.now();
    q.queue.close();
    await until(() => cutOff.length === 1, 1000);
    assert.ok(cutOff[0] - closedAt < 200, `the request in flight was let go ${cutOff[0] - closedAt} ms after close`);
    q.queue.push(job(4)); // a closed queue takes nothing more
    // the stand-in would have answered the first post by now, and the next two would have followed
    await new Promise((r) => setTimeout(r, ANSWER_AFTER_MS + 400));
    assert.equal(stub.seen.length, 1);
    assert.equal(q.delivered.length + q.failed.length, 0);
    assert.deepEqual(
      { waiting: q.queue.stats.waiting, inFlight: q.queue.stats.inFlight },
      { waiting: 2, inFlight: 0 },
      'the post cut off is not even put back',
    );
  });

  it('stops promptly on close: a job waiting for its retry is not attempted again', async () => {
    let attempts = 0;
    const failed: number[] = [];
    const queue = new DeliveryQueue(
      { ...slack.policy, backoffBaseMs: 200, backoffMaxMs: 200 },
      async () => {
        attempts++;
        return { kind: 'transient', error: 'HTTP 503 busy', status: 503 };
      },
      { delivered: () => undefined, failed: (j) => failed.push(j.id) },
      Date.now,
      () => 0.5,
    );
    queue.push(job(1, 5));
    await until(() => queue.stats.retried === 1);
    queue.close();
    await new Promise((r) => setTimeout(r, 600)); // the retry was due 150 ms after the failure
    assert.equal(attempts, 1);
    assert.deepEqual(failed, []);
  });
});

describe('retry delay after a transient failure (retryDelay, as the queue uses it)', () => {
  const top = () => 1 - 2 ** -40; // the largest value a random source returns (below 1)
  const bottom = () => 0;

  it('doubles from 1 s with each attempt up to the 5 min cap, for Slack and PagerDuty alike, jittered over the upper half', () => {
    const caps = [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300].map((s) => s * 1000);
    for (const policy of [slack.policy, pagerduty.policy]) {
      assert.deepEqual({ base: policy.backoffBaseMs, max: policy.backoffMaxMs }, { base: 1000, max: 300_000 });
      caps.forEach((cap, k) => {
        const attempts = k + 1;
        assert.equal(retryDelay(policy, attempts, bottom), cap / 2, `attempt ${attempts}, lowest`);
        assert.equal(
          retryDelay(policy, attempts, () => 0.5),
          (cap * 3) / 4,
          `attempt ${attempts}, middle`,
        );
        assert.ok(Math.abs(retryDelay(policy, attempts, top) - cap) < 1e-6, `attempt ${attempts}, highest`);
      });
      assert.equal(retryDelay(policy, 1000, top) <= 300_000, true, 'no overflow past the cap, however many attempts');
    }
  });

  it("takes a 5xx answer's Retry-After as the least wait: the longer of it and the backoff", () => {
    assert.equal(retryDelay(slack.policy, 1, top, 30_000), 30_000);
    assert.equal(retryDelay(slack.policy, 1, bottom, 0), 500);
    assert.equal(
      retryDelay(slack.policy, 10, () => 0.5, 1000),
      225_000,
    );
    assert.equal(
      retryDelay(pagerduty.policy, 3, () => 0.5, 3001),
      3001,
    );
  });

  it('varies with the random source: 2,000 delays of attempt 5 spread evenly over [8 s, 16 s)', () => {
    const delays = Array.from({ length: 2000 }, () => retryDelay(slack.policy, 5, Math.random));
    assert.ok(
      delays.every((d) => d >= 8000 && d < 16_000),
      'within the upper half of the 16 s cap',
    );
    assert.ok(new Set(delays).size > 1990, `${new Set(delays).size} distinct delays`);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    assert.ok(Math.abs(mean - 12_000) < 300, `mean ${mean} ms (uniform: 12,000; standard error about 52)`);
    const quarters = [0, 0, 0, 0];
    for (const d of delays) quarters[Math.floor((d - 8000) / 2000)]++;
    assert.ok(
      quarters.every((n) => n > 400 && n < 600),
      `per quarter of the range: ${quarters}`,
    );
  });

  it("spaces the queue's attempts by exactly these delays (injected random source), growing until the cap", async () => {
    const times: number[] = [];
    let failedAfter = 0;
    const queue = new DeliveryQueue(
      { ...slack.policy, ratePerSec: 1000, burst: 1000, backoffBaseMs: 100, backoffMaxMs: 400 },
      async (): Promise<SendResult> => {
        times.push(Date.now());
        return { kind: 'transient', error: 'HTTP 503 busy', status: 503 };
      },
      { delivered: () => undefined, failed: (j) => (failedAfter = j.attempts) },
      Date.now,
      () => 0.5,
    );
    try {
      queue.push(job(1, 4));
      await until(() => failedAfter > 0, 5000);
    } finally {
      queue.close();
    }
    assert.equal(failedAfter, 5);
    const gaps = times.slice(1).map((t, k) => t - times[k]);
    const expected = [75, 150, 300, 300]; // 3/4 of the caps 100, 200, 400, 400
    gaps.forEach((gap, k) =>
      assert.ok(gap >= expected[k] - 2 && gap < expected[k] + 150, `gap ${k + 1}: ${gap} ms, expected ${expected[k]} (all: ${gaps})`),
    );
  });

  it('waits for the Retry-After of a 503 from a real stand-in even when the backoff is far shorter', async () => {
    const times: number[] = [];
    const stub = await startStub((req, res, body) => {
      times.push(Date.now());
      (times.length === 1 ? answer(503, 'busy', { 'Retry-After': '1' }) : answer(200, 'ok'))(req, res, body);
    });
    const q = run(stub, { backoffBaseMs: 20, backoffMaxMs: 50, digestAbove: Infinity });
    try {
      q.queue.push(job(1, 3));
      await q.settled(1);
    } finally {
      q.queue.close();
      await stub.close();
    }
    assert.deepEqual(
      q.delivered.map((d) => d.ids),
      [[1]],
    );
    assert.ok(times[1] - times[0] >= 1000, `retried ${times[1] - times[0]} ms after a 503 with Retry-After: 1`);
  });
});
