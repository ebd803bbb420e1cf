/**
 * Alert storms for delivery tests: alerts that can each be told apart in what Slack receives,
 * whether they went out alone or inside a digest.
 */

const RULES = ['5712', '5716', '4151'];

/** Alert number `n`: one of three rules, one of two agents, `storm alert #n` as its description. */
export function stormAlert(n: number): Record<string, any> {
  return {
    timestamp: '2026-11-28T10:00:00.000+0000',
    rule: { level: 3 + (n % 10), description: `storm alert #${n}`, id: RULES[n % RULES.length], groups: ['storm'] },
    agent: { id: `00${1 + (n % 2)}`, name: `web-0${1 + (n % 2)}`, ip: `192.0.2.${1 + (n % 2)}` },
    manager: { name: 'armor-manager' },
    id: `1764324000.${n}`,
    full_log: `storm line ${n}`,
    location: '/var/log/auth.log',
  };
}

/** The numbers of the storm alerts a Slack body stands for: its own alert, or every alert line of a digest. */
export function alertsIn(body: Record<string, any>): number[] {
  if (Array.isArray(body.attachments)) {
    const m = /^storm alert #(\d+)$/.exec(body.attachments[0]?.title ?? '');
    return m ? [Number(m[1])] : [];
  }
  return [...digestText(body).matchAll(/^• `\d+` \d+ · .* · storm alert #(\d+)$/gm)].map((m) => Number(m[1]));
}

/** What a digest says about itself: its header count, its Alerts field, and the tally of its "By rule" section. */
export function digestCounts(body: Record<string, any>): { header: number; alerts: number; byRule: Record<string, number> } {
  const header = Number(/^Armor digest: (\d+) alerts?$/.exec(body.blocks?.[0]?.text?.text ?? '')?.[1]);
  const field = (body.blocks?.[1]?.fields ?? []).find((f: any) => f.text.startsWith('*Alerts*\n'));
  const byRule: Record<string, number> = {};
  const section = (body.blocks ?? []).find((b: any) => b.text?.text?.startsWith('*By rule*\n'));
  for (const m of (section?.text.text ?? '').matchAll(/^• \*(\d+)\* × (\d+) /gm)) byRule[m[2]] = Number(m[1]);
  return { header, alerts: Number(field?.text.slice('*Alerts*\n'.length)), byRule };
}

export const isDigest = (body: Record<string, any>): boolean => Array.isArray(body.blocks) && !Array.isArray(body.attachments);

function digestText(body: Record<string, any>): string {
  return (body.blocks ?? []).map((b: any) => b.text?.text ?? '').join('\n');
}

/** How many times each number appears: the numbers posted twice or more, and those never posted. */
export function tallyDeliveries(posted: number[], expected: number): { missing: number[]; twice: number[] } {
  const seen = new Map<number, number>();
  for (const n of posted) seen.set(n, (seen.get(n) ?? 0) + 1);
  const missing: number[] = [];
  for (let n = 1; n <= expected; n++) if (!seen.has(n)) missing.push(n);
  return { missing, twice: [...seen].filter(([, c]) => c > 1).map(([n]) => n) };
}
