/**
 * Slack incoming webhooks, as the delivery code sees them: pace 1 post/s with a burst of 3,
 * 1 h deadline, digests above 5 waiting alerts; 200 `ok` is delivered; 404 `no_service` /
 * `invalid_token` means a revoked webhook, 410 an archived channel. The webhook URL is the
 * secret (all of it but scheme and host).
 */
import { similarNote } from '../../delivery/dedup';
import type { DeliveryService } from '../../delivery/service';
import { slackDigest } from './digest';
import { buildSlackMessage, mergeSlackOverride, type SlackLayout } from './message';
import type { Parcel } from '../../delivery/endpoint';

/** The message of one parcel: the alert's message (its layout, a dedup note), then the node's `msg.slack` over it. */
export function renderSlack(parcel: Parcel): unknown {
  const { msg, render = {} } = parcel;
  let message = buildSlackMessage(msg.payload, {
    maxLog: msg.integration?.maxLog,
    options: msg.integration?.options,
    layout: render.layout as SlackLayout | undefined,
  });
  const note = similarNote(render.similar ?? 0, render.since);
  if (note) {
    const lead = render.summary ? `${note} (the last one below)` : note;
    message = { ...message, text: typeof message.text === 'string' && message.text ? `${lead}\n${message.text}` : lead };
  }
  return msg.slack === undefined ? message : mergeSlackOverride(message, msg.slack);
}

export const slack: DeliveryService = {
  id: 'slack',
  label: 'Slack',
  policy: {
    ratePerSec: 1,
    burst: 3,
    deadlineMs: 60 * 60 * 1000,
    backoffBaseMs: 1000,
    backoffMaxMs: 5 * 60 * 1000,
    digestAbove: 5,
    digestMax: 5000,
    jitterMs: 250,
  },
  accepted: (status, text) => status === 200 && text.trim() === 'ok',
  reason({ status, error = '' }) {
    if (status === 404 && /no_service|invalid_token/.test(error)) return 'webhookRevoked';
    if (status === 410) return /archived/.test(error) ? 'channelArchived' : 'webhookGone';
    return undefined;
  },
  message: (parcel) => renderSlack(parcel),
  digest: (parcels) => slackDigest(parcels.map((p) => p.msg.payload)),
  editor: {
    previewKey: 'message',
    previewTarget: { url: 'https://hooks.slack.com/services/…' },
    previewRender: (request) => ({ layout: request.layout === 'blocks' ? 'blocks' : 'attachment' }),
  },
};
