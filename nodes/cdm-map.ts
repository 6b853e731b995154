import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { isTraceparent } from '../lib/envelope/envelope';
import { type CompiledMapping, type MapResult, compileMappingSpec, newEnvelope } from '../lib/mapping';
import { type Reason, describeReasons, reason } from '../lib/reasons';
import type { AdminRequest, AdminResponse } from './support/admin-http';
import { findCatalog } from './support/catalog-config';
import { problemStatus } from './support/status';
import { StatusThrottle } from './support/status-throttle';

interface CdmMapDef extends NodeDef {
  catalog: string;
  entity: string;
  version: string;
  site: string;
  siteType: string;
  source: string;
  rules: unknown;
}

type MapMessage = NodeMessageInFlow & {
  cdm?: { correlationId?: unknown; traceparent?: unknown };
  correlationId?: unknown;
  traceparent?: unknown;
  reject?: { stage: string; reasons: Reason[] };
};

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= 256 ? value : undefined;
}

export = function (RED: NodeAPI): void {
  function CdmMap(this: Node, config: CdmMapDef): void {
    RED.nodes.createNode(this, config);
    const compiled = compileMappingSpec({ entity: config.entity, version: config.version, rules: config.rules });
    let site = config.site ?? '';
    if (config.siteType === 'env') site = String(RED.util.evaluateNodeProperty(site, 'env', this, {}) ?? '');
    const problem = !compiled.ok
      ? `the mapping spec does not compile: ${describeReasons(compiled.reasons)}`
      : site === ''
        ? config.siteType === 'env'
          ? `environment variable ${config.site} (the site id) is not set`
          : 'no site id configured'
        : undefined;
    if (problem !== undefined || !compiled.ok) {
      const why = problem ?? 'the mapping spec does not compile';
      this.status(problemStatus(why));
      this.error(`cdm-map: ${why}`);
      this.on('input', (msg, _send, done) => {
        (msg as MapMessage).reject = { stage: 'cdm-map', reasons: [reason('', 'config', why)] };
        done(new Error(`cdm-map: ${why}`));
      });
      return;
    }
    const mapping: CompiledMapping = compiled.value;
    const source = (config.source ?? '').trim() || `urn:tectonic:${site}:node-red`;

    if (config.catalog) {
      // Only a hint: the record is validated against the catalog by cdm-validate, not here.
      const found = findCatalog(RED, config.catalog);
      if ('catalog' in found) {
        const known = found.catalog.snapshot?.validators.versions;
        if (known !== undefined && !known.includes(`${mapping.entity}@${mapping.version}`)) {
          this.warn(`cdm-map: ${mapping.entity}@${mapping.version} is not in the catalog`);
        }
      }
    }

    let mapped = 0;
    let rejected = 0;
    const throttle = new StatusThrottle(this, () => ({ fill: rejected > 0 ? 'yellow' : 'green', shape: 'dot', text: `${mapping.entity}@${mapping.version} · mapped ${mapped} · rejected ${rejected}` }));
    throttle.show();

    const deliver = (msg: MapMessage, result: MapResult, send: (out: Array<MapMessage | null>) => void, done: () => void): void => {
      if (result.ok) {
        mapped += 1;
        const envelope = newEnvelope({
          entity: mapping.entity,
          version: mapping.version,
          site,
          source,
          correlationId: text(msg.correlationId) ?? text(msg.cdm?.correlationId),
          traceparent: [msg.traceparent, msg.cdm?.traceparent].find(isTraceparent),
        });
        // A record that starts a business transaction is its own correlation.
        envelope.correlationId ??= envelope.id;
        msg.cdm = envelope;
        msg.payload = result.value;
        send([msg, null]);
      } else {
        rejected += 1;
        // The local record stays as it came, so a technician sees what could not be mapped.
        msg.reject = { stage: 'cdm-map', reasons: result.reasons };
        send([null, msg]);
      }
      throttle.show();
      done();
    };
    this.on('input', (input, send, done) => {
      const msg = input as MapMessage;
      const result = mapping.map(msg.payload);
      if (result instanceof Promise) result.then((r) => deliver(msg, r, send, done), (err: Error) => done(err));
      else deliver(msg, result, send, done);
    });

    this.on('close', (done: () => void) => {
      throttle.stop();
      done();
    });
  }

  RED.nodes.registerType('cdm-map', CdmMap);

  // "Try it" in the edit dialog: the same compiler the runtime uses, on a record pasted in the editor.
  RED.httpAdmin.post('/tectonic/map/try', RED.auth.needsPermission('cdm-map.write'), (req: AdminRequest, res: AdminResponse) => {
    const body = req.body as { spec?: unknown; record?: unknown } | null | undefined;
    if (body === undefined || body === null || typeof body !== 'object' || !('spec' in body)) {
      res.status(400).json({ message: 'send { spec, record }' });
      return;
    }
    const compiledSpec = compileMappingSpec(body.spec);
    if (!compiledSpec.ok) {
      res.json({ ok: false, reasons: compiledSpec.reasons.map((r) => ({ ...r, message: `spec: ${r.message}` })) });
      return;
    }
    void Promise.resolve(compiledSpec.value.map(body.record)).then((result) => res.json(result));
  });
};
