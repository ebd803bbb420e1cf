/** Package root: the library, for the nodes and for Function-node users. No Node-RED here. */
export { osRegex } from './osregex';
export { osMatch } from './osmatch';
export { locateIntegrations, parseIntegrations } from './config';
export type { BlockSpan, LocatedConfig, SecretSpan, TextSpan, ValuePart } from './config';
export { CONFIG_READ_TIMEOUT_MS, ConfigFileError, parseConfigFile, readConfigFile } from './config-file';
export type { ConfigFileProblem, ReadConfigOptions } from './config-file';
export { compileFilter, compileRouter } from './filter';
export type { AlertFilter, FilterCheck, FilterName, FilterVerdict } from './filter';
export * from './types';
export { TailReader } from './tail';
export type { AlertInfo, Checkpoint, StartMode, TailOptions, TailStats, TailStatus, TailWarning } from './tail';
export { MAX_LINE_BYTES, isAlert, parseAlertPayload } from './lines';
export type { AlertPayload, LineWarning } from './lines';
export {
  buildSlackMessage,
  cutSlackText,
  fitSlackLimits,
  mergeSlackOverride,
  slackColor,
  slackDigest,
  slackEscape,
  SLACK_LIMITS,
} from './slack-message';
export type { SlackColor, SlackDigestOptions, SlackLayout, SlackMessage, SlackMessageOptions } from './slack-message';
export { buildPagerDutyEvent, pagerDutyDedupKey, pagerDutySeverity, PAGERDUTY_LIMITS } from './pagerduty-event';
export type { PagerDutyAction, PagerDutyEvent, PagerDutyEventOptions, PagerDutySeverity } from './pagerduty-event';
export { postJson, redact, describeEndpoint } from './http-sender';
export { endpointSecrets, urlSecrets } from './secrets';
export type { Service, SendKind, SendOptions, SendResult } from './http-sender';
export { proxyFromEnv, bypassesProxy } from './proxy';
export type { ProxyConfig } from './proxy';
export { rowsToXml, integrationToRow } from './form';
export type { IntegrationRow } from './form';
