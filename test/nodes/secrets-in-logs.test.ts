// Issue 20: a broker URL with credentials was logged in clear once a second
// while the broker was unreachable. Every log line and status a bus writes,
// reachable or not, shows the user and masks the password.
import should from 'should';
import { after, afterEach, before, describe, it } from 'mocha';
import { freePort, waitFor } from '../support/node-red-process';
import { type Msg, helper, load, startServer, stopServer } from '../support/red-helper';

const PASSWORD = 'hunter2-not-in-logs';

/** Everything every node logged, at any level, since the server started. */
function everything(): string[] {
  return helper.log().args.map(([event]) => `${String(event.level)} ${String(event.type)} ${String(event.msg)}`);
}

function flow(url: string, extra: Msg[] = []): Msg[] {
  return [
    { id: 'ext', type: 'tectonic-bus', z: '', mode: 'external', url, protocolVersion: '4', clientId: 'site-a-secrets' },
    // A user of the bus, so it connects: a catalog read from it.
    { id: 'catalog', type: 'cdm-catalog', z: '', source: 'bus', bus: 'ext', policy: 'STRICT' },
    ...extra,
  ];
}

describe('no password in log lines', () => {
  before(startServer);
  afterEach(() => helper.unload());
  after(stopServer);

  it('an unreachable broker: the warning shows the user, never the password', async () => {
    const closed = await freePort();
    await load(flow(`mqtt://site-a:${PASSWORD}@127.0.0.1:${closed}`));
    const line = await waitFor(() => everything().find((l) => l.includes('tectonic-bus mqtt://')), { timeoutMs: 10_000, message: 'the connection warning' });
    should(line).match(new RegExp(`mqtt://site-a:\\*\\*\\*@127\\.0\\.0\\.1:${closed}`));
    for (const text of everything()) should(text.includes(PASSWORD)).be.false(text);
  });

  it('a reachable broker: "connected to" shows the user, never the password', async () => {
    const port = await freePort();
    await load(flow(`mqtt://site-a:${PASSWORD}@127.0.0.1:${port}`, [{ id: 'emb', type: 'tectonic-bus', z: '', mode: 'embedded', host: '127.0.0.1', port: String(port) }, { id: 'central', type: 'cdm-catalog', z: '', source: 'bundled', publishToBus: 'emb', policy: 'STRICT' }]));
    const line = await waitFor(() => everything().find((l) => l.includes('connected to mqtt://site-a')), { timeoutMs: 15_000, message: 'the connected log line' });
    should(line).match(new RegExp(`connected to mqtt://site-a:\\*\\*\\*@127\\.0\\.0\\.1:${port} as site-a-secrets`));
    for (const text of everything()) should(text.includes(PASSWORD)).be.false(text);
  });
});
