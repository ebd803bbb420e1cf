/** A parcel (what the outbox keeps of a message) rendered into the service's request body. */
import { similarNote } from '../delivery/dedup';
import { buildPagerDutyEvent, type PagerDutyAction } from './pagerduty/event';
import { buildSlackMessage, mergeSlackOverride, type SlackLayout } from './slack/message';
import type { Parcel } from '../delivery/endpoint';

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

export function renderPagerDuty(parcel: Parcel, routingKey: string): unknown {
  const { msg } = parcel;
  return buildPagerDutyEvent(msg.payload, {
    routingKey,
    options: msg.integration?.options,
    action: (msg.event_action as PagerDutyAction | undefined) ?? 'trigger',
    dedupKey: typeof msg.dedup_key === 'string' ? msg.dedup_key : undefined,
  });
}
