/**
 * A real Debian `redis-server` for one test: its own free loopback port, its own temporary
 * directory (AOF on by default, so a restart keeps the data), no config file of the system's.
 * `stop()` ends it (SIGTERM, SIGKILL after 5 s), `start()` brings it back on the same port and
 * directory, `close()` also removes the directory. REDIS_SERVER overrides the binary's path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { launcher } from './launcher';

export interface RedisServer {
  port: number;
  url: string;
  dir: string;
  /** What the server printed so far (for a failing test's message). */
  output(): string;
  start(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  close(): Promise<void>;
}

const BINARY = process.env.REDIS_SERVER ?? 'redis-server';

/** Resolves once something accepts connections on 127.0.0.1:`port`. */
async function listening(port: number, deadline: number, child: ChildProcess, output: () => string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port}: ${output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startRedis(options: { aof?: boolean; password?: string } = {}): Promise<RedisServer> {
  const port = await launcher.freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-redis-'));
  let child: ChildProcess | undefined;
  let printed = '';
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.aof === false ? 'no' : 'yes',
    '--appendfsync',
    'everysec',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...(options.password ? ['--requirepass', options.password] : []),
  ];
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    output: () => printed,
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      const started = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      started.stdout?.on('data', (d: Buffer) => (printed += d.toString()));
      started.stderr?.on('data', (d: Buffer) => (printed += d.toString()));
      await listening(port, Date.now() + 10_000, started, () => printed);
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill(signal);
      const guard = setTimeout(() => running.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(guard);
    },
    async close() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
