/**
 * Proxy support for the HTTP sender: which proxy a target goes through (an explicit config, or
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment), and agents that reach the target
 * through a CONNECT tunnel. Always a tunnel, for http targets too: the proxy sees `host:port`,
 * never the path (a Slack webhook's secret) nor the body (a PagerDuty routing key).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';

/** A proxy, as Node-RED settings or a proxy config node describe one. */
export interface ProxyConfig {
  /** `http://[user:password@]host[:port]` of an HTTP proxy that accepts CONNECT. */
  url: string;
  /** Targets that bypass the proxy, in NO_PROXY syntax (see {@link bypassesProxy}). */
  noProxy?: string[];
}

/** The proxy CONNECT failed: the proxy answered `status`, or could not be reached (`code`). */
export class TunnelError extends Error {
  constructor(
    /** `host:port` of the proxy (never its credentials). */
    readonly proxy: string,
    readonly status?: number,
    readonly statusText?: string,
    readonly code?: string,
  ) {
    super(status ? `proxy ${proxy} refused CONNECT: ${status}` : `proxy ${proxy} unreachable`);
    this.name = 'TunnelError';
  }
}

/**
 * The proxy the environment asks for, for a target of `protocol`. Lower case names win over
 * upper case (as in curl); an https target falls back to HTTP_PROXY, as Node-RED's own HTTP
 * request node uses HTTP_PROXY for every target. Empty values count as unset.
 */
export function proxyFromEnv(protocol: string, env: NodeJS.ProcessEnv = process.env): ProxyConfig | null {
  const first = (...names: string[]) => names.map((n) => env[n]?.trim()).find((v) => v);
  const plain = ['http_proxy', 'HTTP_PROXY'];
  const url = protocol === 'https:' ? first('https_proxy', 'HTTPS_PROXY', ...plain) : first(...plain);
  return url ? { url, noProxy: parseNoProxy(first('no_proxy', 'NO_PROXY') ?? '') } : null;
}

/** NO_PROXY entries: split on commas and white space. */
export function parseNoProxy(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean);
}

/**
 * Whether `target` bypasses the proxy. Entries: `*` (everything); a host name, which matches
 * itself and its subdomains, with or without a leading `.` or `*.` (`example.com`,
 * `.example.com` and `*.example.com` all match `example.com` and `a.example.com`); an IP
 * address (exact; IPv6 with or without brackets); each optionally with `:port`, which must then
 * equal the target's port. No CIDR ranges.
 */
export function bypassesProxy(target: URL, noProxy: readonly string[]): boolean {
  const host = bare(target.hostname);
  const port = portOf(target);
  return noProxy.some((raw) => {
    const entry = raw.trim().toLowerCase();
    if (entry === '*') return true;
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? /^([^:]+):(\d+)$/.exec(entry);
    const [name, entryPort] = m ? [m[1], m[2]] : [entry, undefined];
    if (entryPort !== undefined && Number(entryPort) !== port) return false;
    if (net.isIP(host)) return host === name;
    const domain = name.replace(/^\*?\./, '');
    return host === domain || host.endsWith('.' + domain);
  });
}

/**
 * The proxy to use for `target`, or null for a direct connection.
 * Throws an Error with a safe message (no credentials) for an unusable proxy URL.
 */
export function selectProxy(target: URL, config: ProxyConfig | null): URL | null {
  if (!config || bypassesProxy(target, config.noProxy ?? [])) return null;
  let proxy: URL;
  try {
    proxy = new URL(/^[a-z][a-z\d+.-]*:\/\//i.test(config.url) ? config.url : `http://${config.url}`);
  } catch {
    throw new Error('invalid proxy URL');
  }
  if (proxy.protocol !== 'http:') throw new Error(`unsupported proxy scheme ${proxy.protocol} (only http:// proxies)`);
  return proxy;
}

/**
 * An agent for one request to `target`: direct, or through a CONNECT tunnel of `proxy`
 * (TLS to the target then runs inside the tunnel). Not pooled: destroy it after the request.
 * `signal` cancels a CONNECT in progress; `extraCa` is trusted for an https target besides the
 * usual root certificates.
 */
export function agentFor(target: URL, proxy: URL | null, signal: AbortSignal, extraCa?: string | Buffer): http.Agent {
  const secure = target.protocol === 'https:';
  const ca = extraCa === undefined ? undefined : [...tls.rootCertificates, extraCa];
  const agent = secure ? new https.Agent({ ca }) : new http.Agent();
  if (!proxy) return agent;
  const host = bare(target.hostname);
  // Node's agents accept a socket handed to the callback later (http.Agent#createConnection).
  const createConnection = (_options: unknown, callback: (err: Error | null, socket?: Duplex) => void) => {
    openTunnel(proxy, host, portOf(target), signal).then((socket) => {
      if (!secure) return callback(null, socket);
      const tlsSocket = tls.connect({ socket, host, servername: net.isIP(host) ? undefined : host, ca });
      tlsSocket.once('close', () => socket.destroy());
      callback(null, tlsSocket);
    }, callback);
    return undefined;
  };
  agent.createConnection = createConnection;
  return agent;
}

/** A raw socket to `host:port` through `proxy` (CONNECT, with Basic auth from the proxy URL). */
function openTunnel(proxy: URL, host: string, port: number, signal: AbortSignal): Promise<net.Socket> {
  const proxyName = proxy.host;
  const authority = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  const headers: Record<string, string> = { host: authority };
  if (proxy.username || proxy.password) {
    const credentials = urlCredentials(proxy).join(':');
    headers['proxy-authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: bare(proxy.hostname),
      port: proxy.port || 80,
      method: 'CONNECT',
      path: authority,
      headers,
      agent: false,
    });
    const onAbort = () => req.destroy(new TunnelError(proxyName, undefined, undefined, 'ABORT_ERR'));
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = () => signal.removeEventListener('abort', onAbort);
    req.once('connect', (res: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      settle();
      if (res.statusCode === 200) {
        if (head.length) socket.unshift(head);
        resolve(socket);
      } else {
        socket.destroy();
        reject(new TunnelError(proxyName, res.statusCode, res.statusMessage));
      }
    });
    req.once('error', (err: NodeJS.ErrnoException) => {
      settle();
      reject(err instanceof TunnelError ? err : new TunnelError(proxyName, undefined, undefined, err.code));
    });
    if (signal.aborted) onAbort();
    else req.end();
  });
}

/** User name and password of a URL, percent-decoded (as written when that fails). */
export function urlCredentials(url: URL): [string, string] {
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  return [decode(url.username), decode(url.password)];
}

/** A URL's host name without the brackets of an IPv6 literal. */
function bare(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1');
}

/** A URL's port, or its scheme's default. */
function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}
