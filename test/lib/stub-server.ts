/**
 * Real HTTP(S) servers on 127.0.0.1 standing in for Slack and PagerDuty: each records the
 * requests it receives and answers them with a scripted handler. Callers close them.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Stub {
  base: string;
  port: number;
  seen: Seen[];
  sockets: net.Socket[];
  /** Drops every connection (hanging requests included) and stops listening. */
  close(): Promise<void>;
}

/** Answers a request whose body has been read; doing nothing leaves the request hanging. */
export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

/** Listens on an ephemeral port of 127.0.0.1; resolves with the port. */
export async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** An HTTP(S) server that records requests and sockets, answering with `handler` once a request body is read. */
export async function startStub(handler: Handler, server: http.Server = http.createServer()): Promise<Stub> {
  const seen: Seen[] = [];
  const sockets: net.Socket[] = [];
  server.on('connection', (socket: net.Socket) => sockets.push(socket));
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  const port = await listen(server);
  const scheme = server instanceof https.Server ? 'https' : 'http';
  return {
    base: `${scheme}://127.0.0.1:${port}`,
    port,
    seen,
    sockets,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers with `status` and a plain-text body. */
export function answer(status: number, text: string, headers: http.OutgoingHttpHeaders = {}): Handler {
  return (_req, res) => res.writeHead(status, { 'Content-Type': 'text/plain', ...headers }).end(text);
}

/** Answers with `status` and `value` as JSON. */
export function json(status: number, value: unknown): Handler {
  return (_req, res) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
}

/** Never answers: the request hangs until the client gives up or the server closes. */
export const hang: Handler = () => undefined;

/** Resolves when the server side of `socket` has closed (the client let go of it). */
export function closed(socket: net.Socket): Promise<void> {
  return socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

/**
 * A Slack-like limit: a token bucket of `ratePerSec` and `burst` kept by the server itself;
 * a request over it is answered 429 with `Retry-After: 1` (and counted in `refused`), the
 * others by `inner`.
 */
export function rateLimited(ratePerSec: number, burst: number, inner: Handler = answer(200, 'ok')): Handler & { refused: number } {
  let tokens = burst;
  let last = Date.now();
  const handler = ((req, res, body) => {
    const now = Date.now();
    tokens = Math.min(burst, tokens + ((now - last) / 1000) * ratePerSec);
    last = now;
    if (tokens < 1) {
      handler.refused++;
      res.writeHead(429, { 'Retry-After': '1' }).end('rate_limited');
      return;
    }
    tokens -= 1;
    inner(req, res, body);
  }) as Handler & { refused: number };
  handler.refused = 0;
  return handler;
}

/** Resets the connection (TCP RST) instead of answering. */
export const reset: Handler = (req) => req.socket.resetAndDestroy();

/**
 * A service that quotes back what it was given: the request line and the `quoted` strings (the
 * configured URL, parts of it, a key) in its reason phrase and in its answer, raw, decoded,
 * percent-encoded, lower-case percent-encoded and JSON-escaped (`\/`), and the Basic credentials
 * it received. `html` answers an HTML page, so that a client can only quote the reason phrase.
 */
export function echoSecrets(status: number, quoted: readonly string[], html = false): Handler {
  return (req, res, body) => {
    const url = req.url ?? '';
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    };
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const forms = [
      url,
      decode(url),
      url.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
      ...quoted,
      ...quoted.map(decode),
      ...quoted.map((q) => encodeURIComponent(decode(q))),
    ];
    if (basic) forms.push(basic, Buffer.from(basic, 'base64').toString('utf8'));
    const text = `host ${req.headers.host} said no to ${forms.join(' | ')} | body ${body}`;
    // as PHP and others write JSON: slashes escaped
    const json = JSON.stringify(text).replace(/\//g, '\\/');
    res.statusMessage = `rejected ${url} ${quoted.filter((q) => /^[\x21-\x7e]*$/.test(q)).join(' ')}`;
    if (html) res.writeHead(status, { 'Content-Type': 'text/html' }).end(`<html><body>${text} ${json}</body></html>`);
    else res.writeHead(status, { 'Content-Type': 'application/json' }).end(`{"message":${json}}`);
  };
}
