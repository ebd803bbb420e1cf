/**
 * One delivery attempt to Slack or PagerDuty: POST a JSON body, classify the answer.
 * Pacing, retries and the outbox sit above this and decide from `SendResult.kind`.
 *
 * - One attempt, one deadline: `timeoutMs` covers the proxy CONNECT, TLS, request and answer.
 * - No redirects: a 3xx is a permanent error (following it would hand the body, and with it
 *   a routing key, to another place; retrying cannot help).
 * - Proxies only through a CONNECT tunnel (see ./proxy): the proxy never sees the path or body.
 * - Secrets (every part of the URL but scheme, host and port, the PagerDuty routing key, proxy
 *   credentials; see ./secrets) never reach a result: the service's answer and status text are
 *   redacted before anything is cut from them, and every other message is built here from error
 *   codes, never from an axios error or its message.
 */
import axios from 'axios';
import type { Readable } from 'node:stream';
import { addAbortSignal } from 'node:stream';
import { agentFor, proxyFromEnv, selectProxy, TunnelError } from './proxy';
import type { ProxyConfig } from './proxy';
import { endpointSecrets, redact, urlSecrets } from '../secrets';
import type { DeliveryService } from './service';

export { describeEndpoint, redact } from '../secrets';

/** What the sender needs of a service: how to tell that it took the message. */
export type Acceptance = Pick<DeliveryService, 'accepted'>;

export interface SendOptions {
  /** Per-attempt deadline in ms (the integration's `timeout` × 1000); 0 = none. */
  timeoutMs: number;
  /** Cancels the attempt (node close); the result is then `aborted`. */
  signal?: AbortSignal;
  /** Proxy to use; `null` = direct; absent = from the environment ({@link proxyFromEnv}). */
  proxy?: ProxyConfig | null;
  /** CA certificate(s) (PEM) trusted besides the usual roots, e.g. for a self-hosted Slack-compatible server. */
  ca?: string | Buffer;
}

/**
 * - `ok`: delivered (Slack 200 `ok`, PagerDuty 202).
 * - `permanent`: do not retry (3xx, 4xx except 408/429, an unexpected 2xx, a bad URL or proxy
 *   config, a proxy refusing CONNECT with 4xx).
 * - `rate-limited`: 429; retry after `retryAfterMs`.
 * - `transient`: retry with backoff (5xx, 408, network errors, timeouts); `retryAfterMs` when
 *   the service sent `Retry-After`.
 * - `aborted`: cancelled through `signal`; not attempted to the end, not a failure of the service.
 */
export type SendKind = 'ok' | 'permanent' | 'rate-limited' | 'transient' | 'aborted';

export interface SendResult {
  kind: SendKind;
  /** HTTP status of the service's answer; absent when there was none. */
  status?: number;
  /** Set for `rate-limited` (Retry-After header, else body `retry_after`, else 1 s). */
  retryAfterMs?: number;
  /** Short reason, e.g. `HTTP 404 no_service`, `timeout after 10000 ms`. Absent when ok. */
  error?: string;
  /** The service's answer, redacted, at most {@link BODY_CHARS} characters. */
  body?: string;
}

/** Most bytes of an answer read (the rest is dropped and the connection closed). */
export const MAX_ANSWER_BYTES = 64 * 1024;
/** Longest `body` in a result. */
export const BODY_CHARS = 500;
/** Longest service text quoted in `error`. */
const DETAIL_CHARS = 200;
/** Longest delay a Node timer takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** `rate-limited` without a hint from the service. */
const DEFAULT_RETRY_AFTER_MS = 1000;

const client = axios.create({
  method: 'post',
  maxRedirects: 0,
  proxy: false,
  responseType: 'stream',
  validateStatus: () => true,
  headers: { 'Content-Type': 'application/json', 'User-Agent': 'armor-node-red-integrations' },
});

/**
 * POSTs `body` as JSON to `url` once. Never throws for HTTP, network or configuration
 * failures (they are results); throws only for programmer errors (a bad `timeoutMs`, a body
 * that JSON cannot serialise).
 */
export async function postJson(service: Acceptance, url: string, body: unknown, opts: SendOptions): Promise<SendResult> {
  if (!(opts.timeoutMs >= 0 && opts.timeoutMs < Infinity)) throw new RangeError('timeoutMs must be a non-negative number');
  const payload = JSON.stringify(body);
  if (payload === undefined) throw new TypeError('body has no JSON form');

  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { kind: 'permanent', error: 'invalid URL' };
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return { kind: 'permanent', error: `unsupported URL scheme ${target.protocol} (http or https only)` };
  }
  const config = opts.proxy === undefined ? proxyFromEnv(target.protocol) : opts.proxy;
  let proxy: URL | null;
  try {
    proxy = selectProxy(target, config);
  } catch (err) {
    return { kind: 'permanent', error: (err as Error).message };
  }
  const secrets = [...secretsOf(url, body), ...(proxy ? urlSecrets(proxy.href) : [])];
  if (opts.signal?.aborted) return aborted();

  const attempt = new AbortController();
  let timedOut = false;
  const timer = opts.timeoutMs > 0 ? setTimeout(onTimeout, Math.min(opts.timeoutMs, MAX_TIMER_MS)) : undefined;
  function onTimeout() {
    timedOut = true;
    attempt.abort();
  }
  const cancel = () => attempt.abort();
  opts.signal?.addEventListener('abort', cancel, { once: true });
  const agent = agentFor(target, proxy, attempt.signal, opts.ca);
  try {
    const res = await client.request<Readable>({
      url: target.href,
      data: Buffer.from(payload),
      httpAgent: agent,
      httpsAgent: agent,
      signal: attempt.signal,
    });
    const text = await readAnswer(addAbortSignal(attempt.signal, res.data));
    const retryAfter: unknown = res.headers['retry-after'];
    return classify(
      service,
      res.status,
      redact(res.statusText ?? '', secrets),
      redact(text, secrets),
      typeof retryAfter === 'string' ? retryAfter : undefined,
    );
  } catch (err) {
    if (timedOut) return { kind: 'transient', error: `timeout after ${opts.timeoutMs} ms` };
    if (opts.signal?.aborted) return aborted();
    return failure(err, secrets);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', cancel);
    agent.destroy();
  }
}

const aborted = (): SendResult => ({ kind: 'aborted', error: 'aborted' });

/**
 * What must never appear in a result: every part of the URL but scheme, host and port (for
 * every service: a custom URL may carry a token as well as a Slack webhook), and the routing
 * key the body carries.
 */
function secretsOf(url: string, body: unknown): string[] {
  const key = (body as { routing_key?: unknown } | null)?.routing_key;
  return endpointSecrets(url, typeof key === 'string' ? key : undefined);
}

/** The answer's text, at most MAX_ANSWER_BYTES of it (then the stream is closed). */
async function readAnswer(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= MAX_ANSWER_BYTES) break;
  }
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
}

/** The verdict on an answer; `statusText` and `text` are already redacted. */
function classify(service: Acceptance, status: number, statusText: string, text: string, retryAfter?: string): SendResult {
  const answer = { status, ...(text ? { body: clip(text, BODY_CHARS) } : {}) };
  if (service.accepted(status, text)) return { kind: 'ok', ...answer };

  const detail = serviceText(text) || statusText;
  let error = `HTTP ${status}${detail ? ` ${detail}` : ''}`;
  const hinted = parseRetryAfter(retryAfter);
  if (status === 429) {
    const retryAfterMs = hinted ?? bodyRetryAfter(text) ?? DEFAULT_RETRY_AFTER_MS;
    return { kind: 'rate-limited', retryAfterMs, error, ...answer };
  }
  if (isRetryable(status)) {
    return { kind: 'transient', ...(hinted === undefined ? {} : { retryAfterMs: hinted }), error, ...answer };
  }
  if (status >= 300 && status < 400) error += ' (redirects are not followed)';
  else if (status < 300) error = `unexpected answer: ${error}`;
  return { kind: 'permanent', error, ...answer };
}

/** Statuses worth another attempt: 5xx, 408 Request Timeout, 429 Too Many Requests. Others are final. */
function isRetryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * The reason a service gives, on one line: JSON `message`/`error` plus `errors[]` (PagerDuty:
 * `{status, message, errors}`), or plain text (Slack: `no_service`). Empty for HTML pages.
 */
function serviceText(text: string): string {
  const json = parseObject(text);
  let reason: string;
  if (json) {
    const head = [json.message, json.error].find((v): v is string => typeof v === 'string');
    const list = Array.isArray(json.errors) ? json.errors.filter((e) => typeof e === 'string') : [];
    reason = [head, list.join('; ')].filter(Boolean).join(': ');
  } else {
    reason = text.trimStart().startsWith('<') ? '' : text;
  }
  return clip(reason.replace(/\s+/g, ' ').trim(), DETAIL_CHARS);
}

/** `Retry-After`: delta-seconds or an HTTP date. */
function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value?.trim()) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** `retry_after` (seconds) of a JSON answer. */
function bodyRetryAfter(text: string): number | undefined {
  const seconds = parseObject(text)?.retry_after;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : undefined;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Short names of the network failures seen in practice, by Node error code. */
const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** A failure without an answer from the service, in our own words (codes only, no messages). */
function failure(err: unknown, secrets: readonly string[]): SendResult {
  const tunnel = causes(err).find((e): e is TunnelError => e instanceof TunnelError);
  if (tunnel?.status) {
    const reason = clip(redact(tunnel.statusText ?? '', secrets), DETAIL_CHARS);
    const kind = isRetryable(tunnel.status) ? 'transient' : 'permanent';
    return { kind, error: `proxy refused CONNECT: ${tunnel.status}${reason ? ` ${reason}` : ''}` };
  }
  const code = tunnel
    ? tunnel.code
    : causes(err)
        .map((e) => (e as { code?: unknown }).code)
        .find((c) => typeof c === 'string');
  const error = describeCode(typeof code === 'string' ? code : undefined);
  return { kind: 'transient', error: tunnel ? `proxy ${tunnel.proxy}: ${error}` : error };
}

function describeCode(code: string | undefined): string {
  if (!code || !/^[A-Z0-9_]+$/.test(code)) return 'network error';
  const name = NETWORK_ERRORS[code] ?? (/CERT|SELF_SIGNED|UNABLE_TO|TLS|SSL/.test(code) ? 'TLS error' : 'network error');
  return `${name} (${code})`;
}

/** An error and its `cause` chain. */
function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = err; e && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}
