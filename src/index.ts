/** Package root: the library, for the nodes and for Function-node users. No Node-RED here. */
export { osRegex } from './osregex';
export { osMatch } from './osmatch';
export { parseIntegrations } from './config';
export { compileFilter, compileRouter } from './filter';
export type { AlertFilter, FilterCheck, FilterName, FilterVerdict } from './filter';
export * from './types';
