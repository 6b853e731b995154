import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, NodeStatus } from 'node-red';
import { validateCanonical } from '../lib/catalog/canonical-validation';
import { markValidated } from '../lib/envelope/envelope';
import type { ValidationVerdict } from '../lib/catalog/canonical-validation';
import type { CatalogState } from '../lib/catalog/catalog-store';
import { type Reason, describeReasons } from '../lib/reasons';
import { catalogStatus, findCatalog } from './support/catalog-config';
import { problemStatus } from './support/status';
import { StatusThrottle } from './support/status-throttle';

interface CdmValidateDef extends NodeDef {
  catalog: string;
  entity: string;
  entityType: string;
  version: string;
  versionType: string;
  castTo: string;
  castToType: string;
}

/** The counters a heartbeat will read (DESIGN: counters in the site's heartbeat). */
interface CdmValidateNode extends Node {
  validCount: number;
  rejectedCount: number;
  /** Messages of a deprecated version passed before its sunset. */
  deprecatedPassed: number;
}

type CdmMessage = NodeMessageInFlow & { cdm?: unknown; reject?: { stage: string; reasons: Reason[] } };

const STAGE = 'cdm-validate';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export = function (RED: NodeAPI): void {
  function CdmValidate(this: CdmValidateNode, config: CdmValidateDef): void {
    RED.nodes.createNode(this, config);
    this.validCount = 0;
    this.rejectedCount = 0;
    this.deprecatedPassed = 0;

    // Configuration problems reject every message with the reason, so nothing passes unvalidated.
    const rejectAll = (problem: string): void => {
      this.status(problemStatus(problem));
      this.error(`cdm-validate: ${problem}`);
      this.on('input', (msg: CdmMessage, send, done) => {
        msg.reject = { stage: STAGE, reasons: [{ path: '', rule: 'not-configured', message: problem }] };
        send([null, msg]);
        done();
      });
    };
    const settings: Record<'entity' | 'version' | 'castTo', string> = { entity: '', version: '', castTo: '' };
    for (const field of ['entity', 'version', 'castTo'] as const) {
      const value = (config[field] ?? '').trim();
      const type = config[`${field}Type`];
      if (type !== 'env' || value === '') {
        settings[field] = value;
        continue;
      }
      const resolved = String(RED.util.evaluateNodeProperty(value, 'env', this, {}) ?? '').trim();
      if (resolved === '') return rejectAll(`${field}: environment variable ${value} is not set`);
      settings[field] = resolved;
    }
    const found = findCatalog(RED, config.catalog);
    if ('problem' in found) return rejectAll(found.problem);
    const catalog = found.catalog;

    let state: CatalogState = catalog.state;
    let lastDeprecated = '';
    const warnedVersions = new Set<string>();
    const throttle = new StatusThrottle(this, (): NodeStatus => {
      const counts = `valid ${this.validCount} · rejected ${this.rejectedCount}`;
      const healthy: NodeStatus = lastDeprecated === '' ? { fill: 'green', shape: 'dot', text: counts } : { fill: 'yellow', shape: 'dot', text: `${counts} · deprecated ${lastDeprecated}` };
      return catalogStatus(state, healthy, state.kind === 'ready' && state.issue ? counts : '');
    });
    const stopWatching = catalog.onState((next) => {
      state = next;
      throttle.show();
    });

    const finish = (msg: CdmMessage, verdict: ValidationVerdict, send: (out: Array<CdmMessage | null>) => void): void => {
      if (!verdict.ok) return reject(msg, verdict.reasons, send);
      const { entity, version } = verdict;
      if (verdict.castFrom !== undefined) msg.payload = verdict.record;
      msg.cdm = markValidated(msg.cdm, entity, version);
      this.validCount += 1;
      const d = verdict.deprecation;
      if (d) {
        this.deprecatedPassed += 1;
        lastDeprecated = `${d.entity} ${d.version}${d.sunset ? ` (sunset ${d.sunset})` : ''}`;
        const key = `${d.entity}@${d.version}`;
        if (!warnedVersions.has(key)) {
          warnedVersions.add(key);
          this.warn(`cdm-validate: ${d.entity} ${d.version} is deprecated${d.sunset ? `; it is rejected after ${d.sunset}` : ''}${d.note ? ` (${d.note})` : ''}`);
        }
      }
      throttle.show();
      send([msg, null]);
    };
    const reject = (msg: CdmMessage, reasons: Reason[], send: (out: Array<CdmMessage | null>) => void): void => {
      // A mark left by an earlier validation must not survive a rejection.
      if (isObject(msg.cdm) && 'validated' in msg.cdm) {
        const { validated: _dropped, ...rest } = msg.cdm;
        msg.cdm = rest;
      }
      msg.reject = { stage: STAGE, reasons };
      this.rejectedCount += 1;
      throttle.show();
      send([null, msg]);
    };
    const internal = (err: unknown): Reason[] => [{ path: '', rule: 'internal-error', message: `the record could not be validated: ${err instanceof Error ? err.message : String(err)}` }];

    this.on('input', (input, send, done) => {
      const msg = input as CdmMessage;
      try {
        const snapshot = catalog.snapshot;
        if (snapshot === undefined) {
          const why = state.kind === 'waiting' && state.issue ? `: ${describeReasons(state.issue.reasons)}` : '';
          reject(msg, [{ path: '', rule: 'no-catalog', message: `no catalog is in force yet, so nothing can be validated${why}` }], send);
          done();
          return;
        }
        const verdict = validateCanonical(snapshot, {
          envelope: msg.cdm,
          record: msg.payload,
          fixedEntity: settings.entity,
          fixedVersion: settings.version,
          castTo: settings.castTo,
        });
        if (verdict instanceof Promise) {
          verdict
            .catch((err: unknown): ValidationVerdict => ({ ok: false, reasons: internal(err) }))
            .then((v) => finish(msg, v, send))
            .catch((err: unknown) => this.error(err))
            .finally(() => done());
          return;
        }
        finish(msg, verdict, send);
        done();
      } catch (err) {
        // Whatever a hostile payload does inside the validator, the message leaves on the reject output.
        try {
          reject(msg, internal(err), send);
          done();
        } catch (again) {
          done(again instanceof Error ? again : new Error(String(again)));
        }
      }
    });

    this.on('close', (done: () => void) => {
      stopWatching();
      throttle.stop();
      done();
    });
  }

  // Explicit so `this` carries the node's own fields; no credentials.
  RED.nodes.registerType<CdmValidateNode, CdmValidateDef, unknown, Record<string, never>>('cdm-validate', CdmValidate);
};
