// Example 07 as imported: one Node-RED runs the pricing primary (site hq, on
// the embedded broker) and backup (site dr), both announced with a health
// check, and the inventory agent calling pricing every 2 s through
// registry-lookup. The announced URLs are built from TECTONIC_UI_PORT; the
// test's runtime listens on a port of its own choosing, so a small forwarder
// on TECTONIC_UI_PORT passes the calls on and records which service each went
// to: that is how the test sees the agent fall over and back.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { type FlowNode, type NodeRedProcess, freePort, repoRoot, startNodeRed, waitFor } from '../support/node-red-process';
import type { RegistrySnapshot } from '../../lib/fleet/registry-format';

describe('example 07: registry failover, as imported', function () {
  this.timeout(120_000);
  let nodeRed: NodeRedProcess;
  let forwarder: Server;
  let target = 0;
  const calls: Array<{ at: number; path: string }> = [];

  before(async () => {
    const [busPort, uiAlias] = await Promise.all([freePort(), freePort()]);
    forwarder = createServer((req, res) => {
      if (req.url?.startsWith('/pricing/') === true && !req.url.includes('/health')) calls.push({ at: Date.now(), path: req.url });
      if (target === 0) {
        res.statusCode = 502;
        res.end();
        return;
      }
      const upstream = request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => { res.statusCode = 502; res.end(); });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => forwarder.listen(uiAlias, '127.0.0.1', resolve));
    const flows = JSON.parse(readFileSync(join(repoRoot, 'examples', '07 Registry failover.json'), 'utf8')) as FlowNode[];
    nodeRed = await startNodeRed({ flows, env: { TECTONIC_BUS_PORT: String(busPort), TECTONIC_UI_PORT: String(uiAlias) } });
    target = nodeRed.port;
  });

  after(async () => {
    await nodeRed?.stop();
    forwarder?.closeAllConnections();
    await new Promise<void>((resolve) => (forwarder ? forwarder.close(() => resolve()) : resolve()));
  });

  const servedBy = (since: number): string[] => calls.filter((c) => c.at >= since).map((c) => c.path.split('?')[0] as string);
  const snapshot = async (): Promise<RegistrySnapshot> => (await (await nodeRed.api('/tectonic/fleet/registry')).json()) as RegistrySnapshot;

  it('deploys without errors and announces both endpoints; the agent is served by the primary', async () => {
    await waitFor(async () => (await snapshot()).services[0]?.endpoints.length === 2, { timeoutMs: 20_000, message: 'both endpoints announced' });
    const since = Date.now();
    await waitFor(() => servedBy(since).includes('/pricing/primary'), { timeoutMs: 10_000, message: 'a call to the primary' });
    assert.doesNotMatch(nodeRed.logs(), /\[error\]/, 'the example logs no error');
  });

  it('primary down: the agent falls over to the backup; primary up: back to the primary', async () => {
    const downAt = Date.now();
    assert.equal((await nodeRed.api('/inject/ex07-down', { method: 'POST' })).status, 200);
    await waitFor(() => servedBy(downAt).includes('/pricing/backup'), { timeoutMs: 10_000, message: 'a call to the backup' });
    // Withdrawn by its health check: the next calls go to the backup only.
    await waitFor(async () => (await snapshot()).services[0]?.endpoints.length === 1, { timeoutMs: 10_000, message: 'the primary withdrawn' });
    const withdrawnAt = Date.now();
    await waitFor(() => servedBy(withdrawnAt).length >= 2, { timeoutMs: 10_000, message: 'two more calls' });
    assert.deepEqual([...new Set(servedBy(withdrawnAt))], ['/pricing/backup']);
    console.log(`      first call served by the backup ${(calls.find((c) => c.at >= downAt && c.path.startsWith('/pricing/backup'))?.at ?? 0) - downAt} ms after "primary down"`);
    const upAt = Date.now();
    assert.equal((await nodeRed.api('/inject/ex07-up', { method: 'POST' })).status, 200);
    await waitFor(() => servedBy(upAt).includes('/pricing/primary'), { timeoutMs: 10_000, message: 'the primary again' });
  });
});
