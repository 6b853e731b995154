import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { EnvelopeOrigin } from '../lib/envelope/new-envelope';
import type { PipelineMessage } from '../lib/envelope/pipeline-message';
import { type MapResult, compileMappingSpec } from '../lib/mapping';
import { MAP_STAGE, applyMapping } from '../lib/mapping/map-message';
import { type MapConfig, parseMapNodeSettings } from '../lib/mapping/map-settings';
import { MappingSpecHolder, type SpecSourceFields, openSpecSource } from '../lib/mapping/spec-source';
import { reason } from '../lib/reasons';
import { type AdminRequest, type AdminResponse, jsonBodyOnly } from './support/admin-http';
import { findCatalog } from './support/catalog-config';
import { translator } from './support/i18n';
import { rememberLastRecord } from './support/last-record';
import { StatusThrottle } from './support/status-throttle';
import { releaseOnClose, showCannotStart } from './support/lifecycle';
import { nodeCounters } from './support/stats';
import { StageTally } from '../lib/metrics/stage-tally';
import { TraceContext, parseTraceSampling } from '../lib/fleet/trace-context';
import { followSpecSource } from './support/map-spec-source';

interface CdmMapDef extends NodeDef, MapConfig, SpecSourceFields {
  catalog: string;
  /** '' or absent: continue traces only; 0 to 1: start one for a record without, sampled at that rate. */
  traceSampling?: string;
}

export = function (RED: NodeAPI): void {
  const t = translator(RED);
  function CdmMap(this: Node, config: CdmMapDef): void {
    RED.nodes.createNode(this, config);
    const parsed = parseMapNodeSettings(config, (name) => RED.util.evaluateNodeProperty(name, 'env', this, {}) as string | undefined);
    const sampling = parseTraceSampling(config.traceSampling);
    if (!parsed.ok || !sampling.ok) {
      const why = parsed.ok ? (sampling.ok ? '' : sampling.problem) : parsed.problem;
      const text = t('cdm-map.errors.problem', { problem: why });
      showCannotStart(this, why, text);
      this.on('input', (msg: NodeMessageInFlow & PipelineMessage, _send, done) => {
        msg.reject = { stage: MAP_STAGE, reasons: [reason('', 'config', why)] };
        done(new Error(text));
      });
      return;
    }
    const { settings } = parsed;
    const holder = new MappingSpecHolder(settings, (change) => followed.changed(change), openSpecSource(settings.spec), settings.mapping);
    const mapping = settings.mapping;

    if (config.catalog && mapping !== undefined) {
      // Only a hint: the record is validated against the catalog by cdm-validate, not here.
      const found = findCatalog(RED, config.catalog);
      if ('catalog' in found) {
        const known = found.catalog.snapshot?.validators.versions;
        if (known !== undefined && !known.includes(`${mapping.entity}@${mapping.version}`)) {
          this.warn(t('cdm-map.warnings.notInCatalog', { entity: mapping.entity, version: mapping.version }));
        }
      }
    }

    let mapped = 0;
    let rejected = 0;
    const tally = new StageTally(nodeCounters(RED, this, 'map'), 'map');
    const trace = new TraceContext(sampling.value);
    const throttle = new StatusThrottle(this, () => {
      const now = holder.current?.mapping;
      if (now === undefined) return { fill: 'grey', shape: 'ring', text: followed.waitingText() };
      return { fill: rejected > 0 || followed.troubled() ? 'yellow' : 'green', shape: 'dot', text: t('cdm-map.status.counts', { entity: now.entity, version: now.version, mapped, rejected }) };
    });
    const followed = followSpecSource(this, t, holder, () => throttle.show());
    throttle.show();
    holder.start();

    const deliver = (msg: PipelineMessage, result: MapResult, origin: EnvelopeOrigin, send: (out: Array<PipelineMessage | null>) => void, done: () => void, probe: string | undefined): void => {
      if (applyMapping(msg, result, origin)) {
        mapped += 1;
        tally.out(probe);
        send([msg, null]);
      } else {
        rejected += 1;
        tally.rejected(probe, msg.reject);
        send([null, msg]);
      }
      throttle.show();
      done();
    };
    const lastRecord = rememberLastRecord(RED, this.id);
    this.on('input', (input, send, done) => {
      const msg = input as NodeMessageInFlow & PipelineMessage;
      const now = holder.current;
      const probe = tally.in(msg);
      if (now === undefined) {
        // Not a verdict on the record: a transient refusal, which an entry retries and a probe reports as no verdict (docs/message-contract.md).
        msg.reject = { stage: 'cdm-map', reasons: [reason('', 'no-spec', followed.waitingText())], transient: true };
        rejected += 1;
        tally.rejected(probe, msg.reject);
        send([null, msg]);
        throttle.show();
        return done();
      }
      // A probe is the heartbeat's, not a record of the site's: Try it keeps the last real one.
      if (probe === undefined) lastRecord.saw(msg.payload);
      const traceparent = trace.forRecord(msg);
      if (traceparent !== undefined) msg.traceparent = traceparent;
      const result = now.mapping.map(msg.payload);
      if (result instanceof Promise) result.then((r) => deliver(msg, r, now.origin, send, done, probe), (err: Error) => done(err));
      else deliver(msg, result, now.origin, send, done, probe);
    });

    releaseOnClose(
      this,
      () => throttle.stop(),
      () => lastRecord.forget(),
      () => void holder.close(),
    );
  }

  RED.nodes.registerType('cdm-map', CdmMap);

  // "Try it" in the edit dialog: the same compiler the runtime uses, on a record pasted in the editor.
  RED.httpAdmin.post('/tectonic/map/try', RED.auth.needsPermission('cdm-map.write'), jsonBodyOnly, (req: AdminRequest, res: AdminResponse) => {
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
