/**
 * The shared outbox of one endpoint (one Slack webhook, one PagerDuty routing key) on a Redis
 * Stream: every instance that uses the same Redis, prefix and endpoint adds to it; the instance
 * that holds the endpoint's lease takes from it, delivers, and marks the entries done. An entry
 * is acknowledged (add() resolves) once Redis holds it, after `WAIT` when `waitReplicas` is set.
 * Nothing is lost when an instance dies: what it had taken but not marked done stays in the
 * consumer group's pending entries, and the next sender reclaims it (`claim()`, XAUTOCLAIM).
 *
 * The counterpart of the local `Outbox` (`../outbox.ts`), async: add() returns an id or "full",
 * done(ids) removes, take() reads in add order, limits on count and bytes refuse new entries, and
 * `forbid` secrets are never stored (add() throws, nothing is written).
 *
 * In Redis (the key names hold no secret: the caller's stream key names the endpoint by a hash):
 *   <streamKey>         the Stream; one entry per alert, one field `d`: the data as JSON. Entry ids
 *                       (`<ms>-<n>`, given by Redis) order the entries across all instances.
 *   <streamKey>:bytes   the bytes of the `d` fields in the Stream (a string counter; what counts
 *                       against `maxBytes`); deleted when the Stream is empty.
 *   group `armor`       the consumer group; each instance reads as its own consumer.
 * add() and done() are Lua scripts, each atomic: the limit check and the XADD cannot be raced by
 * another add (from this client's pipeline or another instance), and the byte counter always
 * matches the entries. Both keys are touched by the same script: under Redis Cluster they need
 * one hash slot (a `{hash tag}` in the stream key); a single Redis or a primary with replicas
 * needs nothing.
 *
 * The client: a node-redis v6 client the caller connected and closes (this class never closes
 * it). For add() to fail fast while Redis is unreachable, create it with
 * `disableOfflineQueue: true`: a command issued while the client reconnects is rejected at once
 * instead of waiting in memory for a Redis that may not come back (node-redis queues by default).
 * Every command also has a deadline (`commandTimeoutMs`, in flight included), so a Redis that
 * accepted the connection and stopped answering does not hang add() either. A rejected add() may
 * still have been written when the deadline ran out after the command was sent
 * (`StreamOutboxError.uncertain`): the caller keeps the alert (in its local journal) and adds it
 * again later, so delivery is at least once.
 *
 * take() with `blockMs` blocks a connection: it uses a duplicate of the client (opened on first
 * use, closed by close()) so that adds on the client are not held behind it.
 */
import { SocketClosedUnexpectedlyError, TimeoutReadError, type RedisClientType } from 'redis';
import { createHash } from 'node:crypto';

export type StreamClient = RedisClientType;

export interface StreamOutboxOptions {
  /** The consumer group. Default `armor`. */
  group?: string;
  /** This instance's name in the group (unique per instance, stable across its restarts if possible). */
  consumer: string;
  maxEntries: number;
  /** Limit on the bytes of the entries' JSON. Default: none. */
  maxBytes?: number;
  /** Secrets (webhook URLs, routing keys) that must never reach Redis: add() throws if the data contains one. */
  forbid: string[];
  /** add() resolves once this many replicas acknowledged the entry (WAIT), or after `waitTimeoutMs`. Default 0. */
  waitReplicas?: number;
  /** How long add() waits for the replicas. Default 1000 ms. */
  waitTimeoutMs?: number;
  /** Deadline of each Redis command (WAIT and blocking reads get theirs on top). Default 5000 ms. */
  commandTimeoutMs?: number;
}

export interface StreamEntry<T> {
  /** The Stream entry id (`<ms>-<n>`): increasing in add order across instances. */
  id: string;
  data: T;
}

/** What add() returns for an entry Redis holds. `replicas`: how many acknowledged it, when `waitReplicas` is set. */
export interface StreamAdded {
  id: string;
  replicas?: number;
}

/** What `add()` returns when a limit refuses the entry. `reason` starts with "outbox full". */
export interface StreamOutboxFull {
  full: true;
  reason: string;
}

/** A Redis command failed (unreachable, timed out, refused). Its message never holds a secret. */
export class StreamOutboxError extends Error {
  /** The command may have been executed (its deadline ran out after it was sent). */
  readonly uncertain: boolean;
  constructor(message: string, uncertain: boolean, cause: unknown) {
    super(message, { cause });
    this.name = 'StreamOutboxError';
    this.uncertain = uncertain;
  }
}

/** KEYS: stream, bytes. ARGV: json, maxEntries, maxBytes (0: none). Returns {1, id} or {0, kind, value}. */
const ADD = `
local n = redis.call('XLEN', KEYS[1])
if n >= tonumber(ARGV[2]) then return {0, 'entries', n} end
local size = string.len(ARGV[1])
local maxBytes = tonumber(ARGV[3])
if maxBytes > 0 then
  if size > maxBytes then return {0, 'entry', size} end
  local used = tonumber(redis.call('GET', KEYS[2]) or '0')
  if used + size > maxBytes then return {0, 'bytes', used} end
end
local id = redis.call('XADD', KEYS[1], '*', 'd', ARGV[1])
redis.call('INCRBY', KEYS[2], size)
return {1, id}
`;

/** KEYS: stream, bytes. ARGV: group, ids... XACK and XDEL each id; returns how many entries were deleted. */
const DONE = `
local freed, removed = 0, 0
for i = 2, #ARGV do
  local e = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])
  if #e > 0 then
    local f = e[1][2]
    for j = 1, #f - 1, 2 do
      if f[j] == 'd' then freed = freed + string.len(f[j + 1]) end
    end
    removed = removed + redis.call('XDEL', KEYS[1], ARGV[i])
  end
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
end
if redis.call('XLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
elseif freed > 0 then
  redis.call('DECRBY', KEYS[2], freed)
end
return removed
`;

const STREAM_ID = /^\d+-\d+$/;

interface Script {
  text: string;
  sha: string;
}

function script(text: string): Script {
  return { text, sha: createHash('sha1').update(text).digest('hex') };
}

const ADD_SCRIPT = script(ADD);
const DONE_SCRIPT = script(DONE);

type RawMessage = { id: string; message: Record<string, string> | null } | null;

export class StreamOutbox<T = unknown> {
  /** Entries found without readable data (not written by this class), dropped by take() and claim(). */
  unreadable = 0;

  readonly streamKey: string;
  private readonly bytesKey: string;
  private readonly group: string;
  private readonly consumer: string;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly forbid: string[];
  private readonly waitReplicas: number;
  private readonly waitTimeoutMs: number;
  private readonly timeoutMs: number;
  private readonly client: StreamClient;
  /** The client with a deadline on every command. */
  private readonly redis: StreamClient;
  private blocking: StreamClient | undefined;
  private closed = false;

  constructor(client: StreamClient, streamKey: string, options: StreamOutboxOptions) {
    if (!options.consumer) throw new TypeError('shared outbox: a consumer name is required');
    if (!(options.maxEntries > 0)) throw new TypeError('shared outbox: maxEntries must be positive');
    this.streamKey = streamKey;
    this.bytesKey = `${streamKey}:bytes`;
    this.group = options.group ?? 'armor';
    this.consumer = options.consumer;
    this.maxEntries = options.maxEntries;
    this.maxBytes = options.maxBytes ?? 0;
    const secrets = options.forbid.filter((s) => s !== '');
    this.forbid = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))];
    this.waitReplicas = options.waitReplicas ?? 0;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 1000;
    if (this.waitReplicas > 0 && !(this.waitTimeoutMs > 0)) {
      throw new TypeError('shared outbox: waitTimeoutMs must be positive (WAIT 0 waits for ever)');
    }
    this.timeoutMs = options.commandTimeoutMs ?? 5000;
    this.redis = client.withCommandOptions({ timeout: this.timeoutMs, rejectInFlight: true });
    this.client = client;
  }

  /**
   * Creates the consumer group (and the Stream) if missing. The group starts at the Stream's
   * beginning (id 0), so entries added before it existed (by an instance that got there first,
   * or before a group lost with its Redis) are delivered too.
   */
  async init(): Promise<void> {
    try {
      await this.redis.xGroupCreate(this.streamKey, this.group, '0', { MKSTREAM: true });
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('BUSYGROUP')) return;
      throw failure('creating the consumer group', err);
    }
  }

  /**
   * Adds `data` to the Stream; resolves once Redis holds it (and, with `waitReplicas`, once the
   * replicas acknowledged it or `waitTimeoutMs` passed: `replicas` says how many did). Refuses
   * it when the outbox is at a limit. Throws if the data contains a `forbid` string (nothing is
   * written) and a `StreamOutboxError` when Redis does not answer in time or is unreachable.
   */
  async add(data: T): Promise<StreamAdded | StreamOutboxFull> {
    this.assertOpen();
    const json = JSON.stringify(data);
    if (json === undefined) throw new TypeError('shared outbox: data is not JSON');
    for (const secret of this.forbid) {
      if (json.includes(secret)) {
        throw new Error('shared outbox: refusing to store data that contains a secret (webhook URL or routing key)');
      }
    }
    const reply = await this.run(ADD_SCRIPT, 'adding an entry', [json, String(this.maxEntries), String(this.maxBytes)]);
    if (!Array.isArray(reply)) throw new StreamOutboxError('shared outbox: unexpected reply to an add', false, undefined);
    const [ok, a, b] = reply as [number, string, number];
    if (ok !== 1) {
      if (a === 'entries') return full(`${b} entries, limit ${this.maxEntries}`);
      if (a === 'entry') return full(`an entry of ${b} bytes exceeds the limit of ${this.maxBytes} bytes`);
      return full(`${b} + ${Buffer.byteLength(json)} bytes would exceed the limit of ${this.maxBytes} bytes`);
    }
    const id = String(a);
    if (this.waitReplicas <= 0) return { id };
    let replicas: number;
    try {
      replicas = await this.client
        .withCommandOptions({ timeout: this.waitTimeoutMs + this.timeoutMs, rejectInFlight: true })
        .wait(this.waitReplicas, this.waitTimeoutMs);
    } catch (err) {
      // the entry is in the primary: not an uncertain write, but not known to be replicated
      throw failure('waiting for the replicas (the entry is in Redis)', err);
    }
    return { id, replicas };
  }

  /**
   * For the current sender (the lease holder): up to `count` entries in Stream order, first its
   * own pending ones (taken before and not done: after a restart of this instance, or claimed),
   * with an id above `after` when given, then new ones. Blocks up to `blockMs` for new ones when
   * nothing is there (on a connection of its own). Taken entries stay pending for this consumer
   * until done(); taken again (`after` omitted) they come back.
   */
  async take(count: number, blockMs = 0, after = '0'): Promise<StreamEntry<T>[]> {
    this.assertOpen();
    if (after !== '0' && !STREAM_ID.test(after)) throw new TypeError('shared outbox: `after` is not a stream id');
    const out = await this.read(this.redis, after, count);
    if (out.length >= count) return out;
    const reader = blockMs > 0 && out.length === 0 ? await this.blockingClient(blockMs) : this.redis;
    return out.concat(await this.read(reader, '>', count - out.length, out.length === 0 && blockMs > 0 ? blockMs : undefined));
  }

  /**
   * Takes over the pending entries of any consumer idle for longer than `minIdleMs` (a dead
   * instance's in-flight entries; XAUTOCLAIM), up to `count`, oldest first. They become this
   * consumer's pending entries (take() returns them too). Entries deleted meanwhile are left out.
   */
  async claim(minIdleMs: number, count: number): Promise<StreamEntry<T>[]> {
    this.assertOpen();
    const out: StreamEntry<T>[] = [];
    const bad: string[] = [];
    let cursor = '0-0';
    do {
      let reply: { nextId: string; messages: RawMessage[] };
      try {
        reply = await this.withGroup(() =>
          this.redis.xAutoClaim(this.streamKey, this.group, this.consumer, minIdleMs, cursor, { COUNT: count - out.length }),
        );
      } catch (err) {
        throw failure('claiming pending entries', err);
      }
      this.collect(reply.messages, out, bad);
      cursor = String(reply.nextId);
    } while (cursor !== '0-0' && out.length < count);
    if (bad.length > 0) await this.done(bad);
    out.sort((x, y) => compareIds(x.id, y.id));
    return out;
  }

  /**
   * Removes entries (delivered or finally failed): XACK and XDEL of each, atomically. Ids not in
   * the Stream, or not stream ids, are ignored. Returns how many entries were removed.
   */
  async done(ids: Iterable<string>): Promise<number> {
    this.assertOpen();
    const valid = [...new Set([...ids].filter((id) => STREAM_ID.test(id)))];
    if (valid.length === 0) return 0;
    return Number(await this.run(DONE_SCRIPT, 'marking entries done', [this.group, ...valid]));
  }

  /** Entries in the Stream (pending or not taken yet) and their bytes. */
  async size(): Promise<{ entries: number; bytes: number }> {
    this.assertOpen();
    try {
      const [entries, bytes] = await Promise.all([this.redis.xLen(this.streamKey), this.redis.get(this.bytesKey)]);
      return { entries, bytes: Number(bytes ?? 0) };
    } catch (err) {
      throw failure('reading the size', err);
    }
  }

  /** Entries taken by some consumer and not done yet (XPENDING). */
  async pending(): Promise<number> {
    this.assertOpen();
    try {
      return (await this.redis.xPending(this.streamKey, this.group)).pending;
    } catch (err) {
      throw failure('reading the pending entries', err);
    }
  }

  /** Closes the connection take() opened for blocking reads (not the client given). */
  close(): void {
    this.closed = true;
    const blocking = this.blocking;
    this.blocking = undefined;
    if (blocking) blocking.destroy();
  }

  /** XREADGROUP of up to `count` entries from `id` ('>' new ones, else this consumer's pending ones above it). */
  private async read(client: StreamClient, id: string, count: number, blockMs?: number): Promise<StreamEntry<T>[]> {
    let reply: Array<{ messages: RawMessage[] }> | null;
    try {
      reply = await this.withGroup(() =>
        client.xReadGroup(this.group, this.consumer, { key: this.streamKey, id }, { COUNT: count, BLOCK: blockMs }),
      );
    } catch (err) {
      throw failure('reading entries', err);
    }
    const out: StreamEntry<T>[] = [];
    const bad: string[] = [];
    for (const stream of reply ?? []) this.collect(stream.messages, out, bad);
    if (bad.length > 0) await this.done(bad);
    return out;
  }

  /** Adds the readable messages to `out`; ids of those deleted or unreadable to `bad` (to acknowledge). */
  private collect(messages: RawMessage[], out: StreamEntry<T>[], bad: string[]): void {
    for (const m of messages) {
      if (m === null) continue; // deleted (Redis 6.2's XAUTOCLAIM); Redis 7 leaves them out
      const json = m.message?.d;
      if (json === undefined) {
        bad.push(String(m.id)); // deleted while pending: only its pending entry is left
        if (m.message !== null) this.unreadable++;
        continue;
      }
      try {
        out.push({ id: String(m.id), data: JSON.parse(json) as T });
      } catch {
        this.unreadable++;
        bad.push(String(m.id));
      }
    }
  }

  /** Runs `command`; on NOGROUP (the group was lost: a Redis restarted without its data) creates it and runs it again. */
  private async withGroup<R>(command: () => Promise<R>): Promise<R> {
    try {
      return await command();
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('NOGROUP'))) throw err;
      await this.init();
      return command();
    }
  }

  /** EVALSHA, or EVAL when Redis does not have the script (first use, after a restart). */
  private async run(s: Script, what: string, args: string[]): Promise<unknown> {
    const options = { keys: [this.streamKey, this.bytesKey], arguments: args };
    try {
      try {
        return await this.redis.evalSha(s.sha, options);
      } catch (err) {
        if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err;
        return await this.redis.eval(s.text, options);
      }
    } catch (err) {
      throw failure(what, err);
    }
  }

  private async blockingClient(blockMs: number): Promise<StreamClient> {
    if (this.blocking) return this.blocking;
    const dup = this.client.duplicate();
    dup.on('error', () => undefined); // its failures reach take() as rejected commands
    await dup.connect();
    if (this.closed) {
      dup.destroy();
      throw new Error('shared outbox: closed');
    }
    this.blocking = dup.withCommandOptions({ timeout: blockMs + this.timeoutMs, rejectInFlight: true });
    return this.blocking;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('shared outbox: closed');
  }
}

function full(why: string): StreamOutboxFull {
  return { full: true, reason: `outbox full: ${why}` };
}

function failure(what: string, err: unknown): StreamOutboxError {
  const message = err instanceof Error ? err.message : String(err);
  // sent and no answer (its deadline ran out, or the connection broke): Redis may have run it
  const uncertain = err instanceof TimeoutReadError || err instanceof SocketClosedUnexpectedlyError;
  return new StreamOutboxError(`shared outbox: Redis failed ${what}: ${message}`, uncertain, err);
}

/** Orders stream ids (`<ms>-<n>`) numerically. */
export function compareIds(a: string, b: string): number {
  const [am, an] = a.split('-');
  const [bm, bn] = b.split('-');
  return am.length - bm.length || (am < bm ? -1 : am > bm ? 1 : 0) || an.length - bn.length || (an < bn ? -1 : an > bn ? 1 : 0);
}
