'use strict';
/**
 * `npm start` (after the build): a local Node-RED with this package installed from its own
 * `npm pack` tarball into .demo/node-red, the demo flow of examples/demo-local-receivers.json
 * deployed, an alerts file that grows every few seconds, and two receivers on 127.0.0.1 that
 * print what Slack and PagerDuty would have received. No account, no internet. Ctrl-C stops it.
 *
 * PORT (default 1880) is the editor's port; ALERT_EVERY_MS (default 4000) the pace of new alerts.
 */
const fs = require('fs');
const http = require('http');
const path = require('path');
const nr = require('./local-node-red');

const DEMO = path.join(nr.ROOT, '.demo');
const USER_DIR = path.join(DEMO, 'node-red');
const ALERTS = path.join(DEMO, 'alerts.json');
const SAMPLES = path.join(nr.ROOT, '..', 'shared', 'samples', 'alerts.jsonl');
const FLOW = path.join(nr.ROOT, 'examples', 'demo-local-receivers.json');
const PORT = Number(process.env.PORT) || 1880;
const ALERT_EVERY_MS = Number(process.env.ALERT_EVERY_MS) || 4000;

const say = (line) => console.log(line);
const clip = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

// ---- the alerts: the shared samples when this checkout has them, else a few made here

function syntheticAlerts() {
  const alert = (level, id, description, groups, agent, location, fullLog) => ({
    timestamp: '2026-01-01T00:00:00.000+0000',
    rule: { level, description, id, groups },
    agent,
    manager: { name: 'armor-manager' },
    id: '1767225600.0',
    full_log: fullLog,
    location,
  });
  const manager = { id: '000', name: 'armor-manager' };
  const web = { id: '001', name: 'web-01', ip: '192.0.2.10' };
  const db = { id: '002', name: 'db-01', ip: '192.0.2.20' };
  return [
    alert(
      10,
      '5712',
      'sshd: brute force trying to get access to the system. Non existent user.',
      ['syslog', 'sshd', 'authentication_failures'],
      web,
      '/var/log/auth.log',
      'sshd[2231]: Invalid user admin from 198.51.100.7 port 52144',
    ),
    alert(
      5,
      '5716',
      'sshd: authentication failed.',
      ['syslog', 'sshd', 'authentication_failed'],
      db,
      '/var/log/auth.log',
      'sshd[811]: Failed password for root from 198.51.100.7 port 40022 ssh2',
    ),
    alert(
      7,
      '550',
      'Integrity checksum changed.',
      ['ossec', 'syscheck', 'syscheck_entry_modified'],
      manager,
      'syscheck',
      "File '/etc/passwd' modified",
    ),
    alert(3, '87101', 'VirusTotal: Error: Public API request rate limit reached', ['virustotal'], manager, 'virustotal', ''),
    alert(12, '87105', 'VirusTotal: Alert - /tmp/eicar.com - 60 engines detected this file', ['virustotal'], web, 'virustotal', ''),
    alert(
      10,
      '4151',
      'Multiple Firewall drop events from same source.',
      ['firewall', 'multiple_drops'],
      db,
      '/var/log/kern.log',
      'kernel: DROP IN=eth0 SRC=198.51.100.7 DST=192.0.2.20 <b>&</b>',
    ),
  ];
}

function demoAlerts() {
  if (!fs.existsSync(SAMPLES)) return { alerts: syntheticAlerts(), from: 'synthetic alerts made by scripts/start.js' };
  const alerts = fs
    .readFileSync(SAMPLES, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
  return { alerts, from: path.relative(process.cwd(), SAMPLES) };
}

/** The manager's timestamp format: 2026-01-01T10:00:00.000+0000. */
const managerTime = (d) => d.toISOString().replace('Z', '+0000');

/** A copy of `alert` that happened now: a fresh id and timestamp. */
function again(alert, n) {
  const now = new Date();
  return { ...alert, timestamp: managerTime(now), id: `${Math.floor(now.getTime() / 1000)}.${n}` };
}

// ---- the receivers: what Slack and PagerDuty would have received, one line each

function receiver(name, handle) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        say(`[${name}] ${req.method} ${req.url}: not JSON`);
        res.writeHead(400, { 'Content-Type': 'text/plain' }).end('invalid_payload');
        return;
      }
      handle(body, res);
    });
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function printSlack(body, res) {
  const a = (body.attachments && body.attachments[0]) || {};
  const field = (title) => ((a.fields || []).find((f) => f.title === title) || {}).value || '';
  const color = a.color || (body.blocks ? 'blocks' : '-');
  const title = a.title || body.text || '';
  say(
    `[slack]     ${color.padEnd(8)} ${clip(title, 60).padEnd(60)} rule ${field('Rule ID').replace(/ _\(Level (\d+)\)_/, ' L$1')} · ${field('Agent')}`,
  );
  res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
}

function printPagerDuty(body, res) {
  const p = body.payload || {};
  const what =
    body.event_action === 'trigger' ? `${(p.severity || '-').padEnd(8)} ${clip(p.summary || '', 60).padEnd(60)}` : body.event_action;
  say(`[pagerduty] ${what} dedup ${body.dedup_key} · ${p.source || ''}`);
  res
    .writeHead(202, { 'Content-Type': 'application/json' })
    .end(JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: body.dedup_key }));
}

// ---- the flow: the example, pointed at this demo's file and receivers

function demoFlow(slackPort, pagerDutyPort) {
  return JSON.parse(fs.readFileSync(FLOW, 'utf8')).map((node) => {
    switch (node.type) {
      case 'armor-alerts':
        return { ...node, path: ALERTS, start: 'beginning' };
      case 'armor-slack-webhook':
        return { ...node, credentials: { url: `http://127.0.0.1:${slackPort}/services/TDEMO/BDEMO/demo` } };
      case 'armor-pagerduty-service':
        return {
          ...node,
          region: 'custom',
          url: `http://127.0.0.1:${pagerDutyPort}/v2/enqueue`,
          credentials: { routingKey: 'demo-routing-key' },
        };
      default:
        return node;
    }
  });
}

// ---- the package, installed as users install it (skipped when the tarball has not changed)

async function install() {
  const tarball = await nr.packPackage(path.join(DEMO, 'pack'));
  const stamp = path.join(DEMO, 'installed.sha1');
  const sha = require('crypto').createHash('sha1').update(fs.readFileSync(tarball)).digest('hex');
  const installed = path.join(USER_DIR, 'node_modules', ...nr.PACKAGE_NAME.split('/'), 'package.json');
  if (fs.existsSync(installed) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === sha) return 'unchanged';
  await nr.installPackage(USER_DIR, tarball);
  fs.writeFileSync(stamp, sha);
  return path.basename(tarball);
}

/** What runs, so that Ctrl-C, a failure or Node-RED's own exit stop all of it. */
const running = { red: undefined, servers: [], timer: undefined, stopping: false };

async function stop(code) {
  if (running.stopping) return;
  running.stopping = true;
  clearInterval(running.timer);
  say('[demo] stopping …');
  if (running.red) await nr.stopNodeRed(running.red, 10000);
  for (const server of running.servers) server.close();
  say('[demo] stopped');
  process.exit(code);
}

async function main() {
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  fs.mkdirSync(DEMO, { recursive: true });
  say(`[demo] installing ${nr.PACKAGE_NAME} from npm pack into ${path.relative(process.cwd(), USER_DIR)}/ …`);
  const installedFrom = await install();
  say(`[demo] installed (${installedFrom})`);

  const slack = await receiver('slack', printSlack);
  const pagerduty = await receiver('pagerduty', printPagerDuty);
  running.servers.push(slack, pagerduty);

  const { alerts, from } = demoAlerts();
  const real = alerts.filter((a) => a && typeof a.rule === 'object');
  fs.writeFileSync(ALERTS, alerts.map((a) => JSON.stringify(a)).join('\n') + '\n');
  say(`[demo] ${path.relative(process.cwd(), ALERTS)}: ${alerts.length} alerts from ${from}`);

  // a fresh start: no flow of an earlier run may tail the file before the demo flow is deployed
  for (const f of ['flows.json', 'flows_cred.json', '.flows.json.backup', '.flows_cred.json.backup'])
    fs.rmSync(path.join(USER_DIR, f), { force: true });
  fs.rmSync(path.join(USER_DIR, 'armor-integrations'), { recursive: true, force: true });
  nr.writeSettings(USER_DIR, { port: PORT, credentialSecret: 'armor-demo' });
  const red = nr.startNodeRed(USER_DIR, { onOutput: (text) => process.stdout.write(text.replace(/^(?=.)/gm, '[node-red] ')) });
  running.red = red;
  red.exited.then((code) => {
    if (running.stopping) return;
    say(`[demo] Node-RED exited (${code}); if port ${PORT} is taken, try: PORT=1881 npm start`);
    stop(1);
  });

  const base = `http://127.0.0.1:${PORT}`;
  await nr.waitForAdmin(base, red);
  await nr.deployFlows(base, demoFlow(slack.address().port, pagerduty.address().port));
  say(`[demo] Node-RED ${base}/ — flow "Armor demo" deployed from examples/demo-local-receivers.json`);
  say(`[demo] receivers: Slack http://127.0.0.1:${slack.address().port}  PagerDuty http://127.0.0.1:${pagerduty.address().port}`);
  say(`[demo] a new alert every ${ALERT_EVERY_MS / 1000} s; Ctrl-C stops everything`);

  let n = 0;
  running.timer = setInterval(() => {
    const alert = again(real[n % real.length], ++n);
    fs.appendFileSync(ALERTS, `${JSON.stringify(alert)}\n`);
    say(`[demo] + alert ${alert.rule.id} level ${alert.rule.level} from ${alert.agent ? alert.agent.name : '?'}`);
  }, ALERT_EVERY_MS);
}

main().catch((e) => {
  if (running.stopping) return;
  console.error(`[demo] ${e.message}`);
  stop(1);
});
