/** Package root: the library, for the nodes and for Function-node users. No Node-RED here. */
export { osRegex } from './engines/osregex';
export { osMatch } from './engines/osmatch';
export { locateIntegrations, parseIntegrations } from './config/parse';
export type { BlockSpan, LocatedConfig, SecretSpan, TextSpan, ValuePart } from './config/parse';
export { CONFIG_READ_TIMEOUT_MS, ConfigFileError, parseConfigFile, readConfigFile } from './config/file';
export type { ConfigFileProblem, ReadConfigOptions } from './config/file';
export { compileFilter, compileRouter } from './filter';
export type { AlertFilter, FilterCheck, FilterName, FilterVerdict } from './filter';
export * from './types';
export { TailReader } from './source/tail';
export type { AlertInfo, Checkpoint, StartMode, TailOptions, TailStats, TailStatus, TailWarning } from './source/tail';
export { MAX_LINE_BYTES, isAlert, parseAlertPayload } from './source/lines';
export type { AlertPayload, LineWarning } from './source/lines';
export {
  buildSlackMessage,
  cutSlackText,
  fitSlackLimits,
  mergeSlackOverride,
  slackColor,
  slackEscape,
  SLACK_LIMITS,
} from './services/slack/message';
export type { SlackColor, SlackLayout, SlackMessage, SlackMessageOptions } from './services/slack/message';
export { slackDigest } from './services/slack/digest';
export type { SlackDigestOptions } from './services/slack/digest';
export { buildPagerDutyEvent, pagerDutyDedupKey, pagerDutySeverity, PAGERDUTY_LIMITS } from './services/pagerduty/event';
export type { PagerDutyAction, PagerDutyEvent, PagerDutyEventOptions, PagerDutySeverity } from './services/pagerduty/event';
export { postJson, redact, describeEndpoint } from './delivery/sender';
export { endpointSecrets, urlSecrets } from './secrets';
export type { Acceptance, SendKind, SendOptions, SendResult } from './delivery/sender';
export type { DeliveryService, Target, TargetProblem } from './delivery/service';
export { SERVICES, slack, pagerduty } from './services';
export { proxyFromEnv, bypassesProxy } from './delivery/proxy';
export type { ProxyConfig } from './delivery/proxy';
export { rowsToXml, integrationToRow } from './config/form';
export type { IntegrationRow } from './config/form';
