/**
 * Versioned node properties (as the Home Assistant websocket nodes keep them): each node type
 * has a list of migrations under nodes/migrations/<type>.ts, `{ version, up(def) }`, and a def
 * saved with a lower version (or none: flows written before versions existed count as 0) is
 * brought to the newest one, step by step, in the node's constructor and when the editor opens
 * the node (POST /armor-integrations/migrate/:type, served here). A def saved by a newer
 * version of this package than the running one is used as it is, with a warning.
 */
import type { Node, NodeAPI } from 'node-red';

/** A node's properties as saved in the flow. */
export type Def = Record<string, unknown>;

export interface Migration {
  /** The version a def has after this step (1, 2, ...: consecutive). */
  version: number;
  /** The def of the previous version, as one of this version (a new object; `version` is set by migrate()). */
  up(def: Def): Def;
}

/** The version a def claims: 0 when it has none (or not a whole number). */
export function versionOf(def: { version?: unknown }): number {
  const v = Number(def.version);
  return def.version !== undefined && def.version !== null && def.version !== '' && Number.isInteger(v) && v >= 0 ? v : 0;
}

/** The newest version a list knows (0 for an empty list); throws unless versions go 1, 2, 3... */
export function currentVersion(migrations: readonly Migration[]): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${i + 1} has version ${m.version}: versions must go 1, 2, 3...`);
  });
  return migrations.length;
}

export interface Migrated<T> {
  def: T;
  /** The version the def came with (0: none). */
  from: number;
  /** Set when the def is newer than this package knows: it is used as it is. */
  future?: true;
}

/** `def` brought to the newest version of `migrations` (def itself is not changed). */
export function migrate<T extends object>(def: T, migrations: readonly Migration[]): Migrated<T> {
  const current = currentVersion(migrations);
  const from = versionOf(def);
  if (from > current) return { def, from, future: true };
  let out = def as Def;
  for (const m of migrations.slice(from)) out = { ...m.up({ ...out }), version: m.version };
  return { def: out as T, from };
}

const lists = new Map<string, readonly Migration[]>();
const served = new WeakSet<object>();

/**
 * The def a node of `type` works with: migrated; a warning when it comes from a newer version.
 * Call it first in the constructor (after createNode, before reading properties).
 */
export function migrateNode<T extends object>(RED: NodeAPI, node: Node, def: T, migrations: readonly Migration[]): T {
  const result = migrate(def, migrations);
  if (result.future) {
    node.warn(RED._(`${node.type}.warnings.futureVersion`, { version: result.from, known: currentVersion(migrations) }));
  }
  return result.def;
}

/**
 * What registerType needs for a versioned node: the `settings` entry that tells the editor the
 * current version (RED.settings.<camelCasedType>Version), and the editor's migrate endpoint.
 */
export function versioned(
  RED: NodeAPI,
  type: string,
  migrations: readonly Migration[],
): Record<string, { value: unknown; exportable: true }> {
  lists.set(type, migrations);
  if (!served.has(RED.httpAdmin)) {
    served.add(RED.httpAdmin);
    // the editor's migrations are these: it posts an old node's properties and takes the answer
    RED.httpAdmin.post(
      '/armor-integrations/migrate/:type',
      (req, res, next) => RED.auth.needsPermission(`${String(req.params.type)}.read`)(req, res, next),
      (req, res) => {
        const list = lists.get(String(req.params.type));
        const body = req.body as unknown;
        if (!list || typeof body !== 'object' || body === null || Array.isArray(body)) {
          res.sendStatus(404);
          return;
        }
        const result = migrate(body as Def, list);
        res.json({ def: result.def, from: result.from, current: currentVersion(list), future: result.future === true });
      },
    );
  }
  return { [`${camelType(type)}Version`]: { value: currentVersion(migrations), exportable: true } };
}

/** `armor-slack-webhook` → `armorSlackWebhook`: the prefix Node-RED requires of a node's settings (as @node-red/util's normaliseNodeTypeName). */
export function camelType(type: string): string {
  const words = type
    .replace(/[^a-zA-Z0-9]/g, ' ')
    .trim()
    .replace(/ +/g, ' ');
  const joined = words.replace(/ ./g, (s) => s.charAt(1).toUpperCase());
  return joined.charAt(0).toLowerCase() + joined.slice(1);
}
