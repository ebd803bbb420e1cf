/**
 * What every node of this package does the same way: status, failures, counters.
 * The only module under nodes/ besides the nodes themselves; no decisions live here.
 */
import type { Node, NodeMessage } from 'node-red';

export type Done = (err?: Error) => void;
export type Send = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;

type Shape = 'dot' | 'ring';
type Fill = 'green' | 'yellow' | 'red' | 'grey' | 'blue';

/** Words that are not the catalogue's (a failure's own reason, a file name) cut to fit a status: at most `max` characters, the last one `…` when cut. */
export function brief(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Parts of a status text, the empty ones left out, joined as every status of this package joins them: `a · b`. */
export function joinStatus(...parts: string[]): string {
  return parts.filter((p) => p !== '').join(' · ');
}

/**
 * Sets a status, skipping the call when nothing changed (status events go to every editor).
 * The text comes from the message catalogue (lint refuses a literal here), with any words of
 * other origin cut by brief().
 */
export function setStatus(node: Node, fill: Fill, shape: Shape, text: string): void {
  const n = node as Node & { __armorStatus?: string };
  const key = `${fill}|${shape}|${text}`;
  if (n.__armorStatus === key) return;
  n.__armorStatus = key;
  node.status({ fill, shape, text });
}

/**
 * The one failure path: a red status with a short reason, the failed output (when the node
 * has one) with `msg.error`, and `done(err)` so Catch nodes fire with the message.
 */
export function fail(
  node: Node,
  msg: NodeMessage,
  send: Send,
  done: Done,
  error: Error,
  short: string,
  failedOutput?: { index: number; outputs: number; detail?: Record<string, unknown> },
): void {
  setStatus(node, 'red', 'ring', short);
  if (failedOutput) {
    const out = new Array<NodeMessage | null>(failedOutput.outputs).fill(null);
    const failed = msg as NodeMessage & { error?: unknown };
    failed.error = { message: error.message, ...(failedOutput.detail ?? {}) };
    out[failedOutput.index] = failed;
    send(out);
  }
  done(error);
}

/** Refreshes a status from counters at most once per interval; stop() on close. */
export function statusTicker(render: () => void, intervalMs = 1000): { poke(): void; stop(): void } {
  let dirty = false;
  const timer = setInterval(() => {
    if (!dirty) return;
    dirty = false;
    render();
  }, intervalMs);
  timer.unref?.();
  return {
    poke() {
      dirty = true;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
