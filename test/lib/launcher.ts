/** The launcher `npm start` uses too (scripts/local-node-red.js), typed for the tests that run Node-RED's CLI. */
import type { ChildProcess } from 'node:child_process';

export interface RedProcess {
  child: ChildProcess;
  exited: Promise<number | string>;
  output(): string;
}

export interface Launcher {
  PACKAGE_NAME: string;
  packPackage(destDir: string): Promise<string>;
  installPackage(userDir: string, tarball: string): Promise<void>;
  freePort(): Promise<number>;
  writeSettings(userDir: string, s: { port: number; credentialSecret: string; logLevel?: string }): string;
  startNodeRed(userDir: string): RedProcess;
  waitForAdmin(baseUrl: string, red: RedProcess, timeoutMs?: number): Promise<Array<Record<string, any>>>;
  deployFlows(baseUrl: string, nodes: unknown[]): Promise<void>;
  stopNodeRed(red: RedProcess, guardMs?: number): Promise<void>;
}

export const launcher: Launcher = require('../../scripts/local-node-red.js');
