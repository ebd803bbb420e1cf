/** The launcher `npm start` uses too (scripts/local-node-red.js), typed for the tests that run Node-RED's CLI. */
import type { ChildProcess } from 'node:child_process';

export interface RedProcess {
  child: ChildProcess;
  exited: Promise<number | string>;
  output(): string;
}

/** A Node-RED release on a Node.js: this repository's (devNodeRed) or one from the npm registry (installNodeRed). */
export interface Runtime {
  node: string;
  redJs: string;
  nodeVersion: string;
  nodeRedVersion: string;
}

export interface Launcher {
  PACKAGE_NAME: string;
  packPackage(destDir: string): Promise<string>;
  installPackage(userDir: string, tarball: string): Promise<void>;
  devNodeRed(): Runtime;
  installNodeRed(spec: { nodeRed: string; node: string }): Promise<Runtime>;
  freePort(): Promise<number>;
  writeSettings(userDir: string, s: { port: number; credentialSecret: string; logLevel?: string; offline?: boolean }): string;
  startNodeRed(userDir: string, options?: { runtime?: Runtime; onOutput?: (text: string) => void }): RedProcess;
  waitForAdmin(baseUrl: string, red: RedProcess, timeoutMs?: number): Promise<Array<Record<string, any>>>;
  deployFlows(baseUrl: string, nodes: unknown[]): Promise<void>;
  stopNodeRed(red: RedProcess, guardMs?: number): Promise<void>;
}

export const launcher: Launcher = require('../../scripts/local-node-red.js');
