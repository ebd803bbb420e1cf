/**
 * What the shared delivery code needs to know of a service (Slack, PagerDuty, the next one):
 * each service folder under src/services/ exports one of these, and the sender, the queue, the
 * endpoint, the nodes and the editor API take it instead of branching on a service's name.
 */
import type { Parcel } from './endpoint';
import type { QueuePolicy } from './queue';

/** Where a service is reached: a URL, and the routing key when the service has one (the URL is then not the only secret). */
export interface Target {
  url: string;
  routingKey?: string;
}

/** Why a target cannot be used, in words that quote no secret. */
export interface TargetProblem {
  problem: string;
}

export interface DeliveryService {
  /** The delivery node is `armor-<id>`; also `msg.delivery.service` and `msg.error.service`. */
  readonly id: string;
  /** The service's name in messages: `Slack`, `PagerDuty`. */
  readonly label: string;
  /** Default pace, burst, deadline, backoff and digests (the config node's properties adjust them). */
  readonly policy: Readonly<QueuePolicy>;
  /** Whether an answer (its HTTP status and text) means the service took the message. */
  accepted(status: number, text: string): boolean;
  /**
   * A status-sized reason for a failure the service has a name for, else undefined: a key of
   * the delivery node's message catalogue under `<node type>.reason.` (`webhookRevoked`: the
   * node shows "webhook revoked"), so that the service's words are translated with the node's.
   */
  reason?(failure: { status?: number; error?: string }): string | undefined;
  /** The request body of one parcel. */
  message(parcel: Parcel, target: Target): unknown;
  /** The request body of a digest of several (only services whose policy digests). */
  digest?(parcels: readonly Parcel[]): unknown;
  /** The editor: under which key a preview answer carries the body, and a test alert's dedup key. */
  readonly editor: {
    previewKey: string;
    /** A placeholder target for previews: never a real secret. */
    previewTarget: Target;
    /** What the preview request may choose of the rendering (Slack: the layout). */
    previewRender?(request: { layout?: unknown }): Parcel['render'];
    /** The dedup key of a test alert, when the service groups by one (PagerDuty), so tests never join a real incident. */
    testDedupKey?(sample: string): string;
  };
}

/** One post for `parcels`: its body (one alert's message, or a digest of several) and its per-attempt timeout. */
export interface Post {
  body: unknown;
  timeoutMs: number;
}

/**
 * The post a service makes for `parcels` (at least one): a digest when there are several and the
 * service has one, else the first parcel's message; the longest of their timeouts. A message
 * that cannot be built is a permanent failure, in words.
 */
export function buildPost(service: DeliveryService, parcels: readonly Parcel[], target: Target): Post | { error: string } {
  try {
    const body = parcels.length > 1 && service.digest ? service.digest(parcels) : service.message(parcels[0], target);
    return { body, timeoutMs: Math.max(...parcels.map((p) => p.timeout)) * 1000 };
  } catch (e) {
    return { error: `cannot build the message: ${(e as Error).message}` };
  }
}
