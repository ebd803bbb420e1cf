/** A parcel (what the outbox keeps of a message) rendered into the service's request body. */
import { similarNote } from '../../src/dedup';
import { buildPagerDutyEvent, type PagerDutyAction } from '../../src/pagerduty-event';
import { buildSlackMessage, mergeSlackOverride, type SlackLayout } from '../../src/slack-message';
import type { Parcel } from './endpoint';

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

/** `clientUrl`: the service's `client_url` (empty: none). */
export function renderPagerDuty(parcel: Parcel, routingKey: string, clientUrl?: string): unknown {
  const { msg } = parcel;
  return buildPagerDutyEvent(msg.payload, {
    routingKey,
    clientUrl,
    options: msg.integration?.options,
    action: (msg.event_action as PagerDutyAction | undefined) ?? 'trigger',
    dedupKey: typeof msg.dedup_key === 'string' ? msg.dedup_key : undefined,
  });
}
