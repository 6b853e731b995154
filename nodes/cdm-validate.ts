import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, NodeStatus } from 'node-red';
import type { ValidationVerdict } from '../lib/catalog/canonical-validation';
import type { CatalogState } from '../lib/catalog/catalog-store';
import { DeprecationNotices, VALIDATE_STAGE, applyValidation, internalErrorReasons, refuseForNoCatalog, refuseValidation, validateMessage } from '../lib/catalog/validate-message';
import { type ValidateConfig, parseValidateSettings } from '../lib/catalog/validate-settings';
import type { PipelineMessage } from '../lib/envelope/pipeline-message';
import type { Reason } from '../lib/reasons';
import { catalogStatus, findCatalog } from './support/catalog-config';
import { translator } from './support/i18n';
import { StatusThrottle } from './support/status-throttle';
import { releaseOnClose, showCannotStart } from './support/lifecycle';
import { nodeLabel, offerReadiness } from './support/flow-readiness';
import { nodeCounters } from './support/stats';
import { StageTally } from '../lib/metrics/stage-tally';
import { probeNonce } from '../lib/fleet/probe-mark';

interface CdmValidateDef extends NodeDef, ValidateConfig {
  catalog: string;
}

/** The counters a heartbeat will read (DESIGN: counters in the site's heartbeat). */
interface CdmValidateNode extends Node {
  validCount: number;
  rejectedCount: number;
  /** Messages of a deprecated version passed before its sunset. */
  deprecatedPassed: number;
}

type Send = (out: Array<PipelineMessage | null>) => void;

export = function (RED: NodeAPI): void {
  const t = translator(RED);
  function CdmValidate(this: CdmValidateNode, config: CdmValidateDef): void {
    RED.nodes.createNode(this, config);
    this.validCount = 0;
    this.rejectedCount = 0;
    this.deprecatedPassed = 0;
    const tally = new StageTally(nodeCounters(RED, this, 'validate', { counts: () => ({ deprecatedPassed: this.deprecatedPassed }) }), 'validate');

    // Configuration problems reject every message with the reason, so nothing passes unvalidated.
    const rejectAll = (problem: string): void => {
      showCannotStart(this, problem, t('cdm-validate.errors.problem', { problem }));
      this.on('input', (msg: NodeMessageInFlow & PipelineMessage, send, done) => {
        msg.reject = { stage: VALIDATE_STAGE, reasons: [{ path: '', rule: 'not-configured', message: problem }] };
        tally.rejected(tally.in(msg), msg.reject);
        send([null, msg]);
        done();
      });
    };
    const parsed = parseValidateSettings(config, (name) => RED.util.evaluateNodeProperty(name, 'env', this, {}) as string | undefined);
    if (!parsed.ok) return rejectAll(parsed.problem);
    const settings = parsed.settings;
    const found = findCatalog(RED, config.catalog);
    if ('problem' in found) return rejectAll(found.problem);
    const catalog = found.catalog;
    // What an entry upstream waits for before it reads the bus: a catalog in force (it never goes back to none).
    const ready = offerReadiness(this, t('cdm-validate.readiness.catalog', { name: nodeLabel(RED, config.catalog) }));

    let state: CatalogState = catalog.state;
    const deprecations = new DeprecationNotices();
    const throttle = new StatusThrottle(this, (): NodeStatus => {
      const counts = t('cdm-validate.status.counts', { valid: this.validCount, rejected: this.rejectedCount });
      const lastDeprecated = deprecations.last;
      const healthy: NodeStatus =
        lastDeprecated === '' ? { fill: 'green', shape: 'dot', text: counts } : { fill: 'yellow', shape: 'dot', text: t('cdm-validate.status.deprecated', { counts, deprecated: lastDeprecated }) };
      return catalogStatus(t, state, healthy, state.kind === 'ready' && state.issue ? counts : '');
    });
    const stopWatching = catalog.onState((next) => {
      state = next;
      ready.set(next.kind === 'ready');
      throttle.show();
    });

    const finish = (msg: PipelineMessage, verdict: ValidationVerdict, send: Send): void => {
      if (!applyValidation(msg, verdict)) return counted(msg, send);
      this.validCount += 1;
      tally.out(probeNonce(msg));
      if (verdict.ok && verdict.deprecation) {
        this.deprecatedPassed += 1;
        const warning = deprecations.note(verdict.deprecation);
        if (warning !== undefined) this.warn(warning);
      }
      throttle.show();
      send([msg, null]);
    };
    const reject = (msg: PipelineMessage, reasons: Reason[], send: Send): void => {
      refuseValidation(msg, reasons);
      counted(msg, send);
    };
    const counted = (msg: PipelineMessage, send: Send): void => {
      this.rejectedCount += 1;
      tally.rejected(probeNonce(msg), msg.reject);
      throttle.show();
      send([null, msg]);
    };

    this.on('input', (input, send, done) => {
      const msg = input as NodeMessageInFlow & PipelineMessage;
      tally.in(msg);
      try {
        const snapshot = catalog.snapshot;
        if (snapshot === undefined) {
          refuseForNoCatalog(msg, state);
          counted(msg, send);
          done();
          return;
        }
        const verdict = validateMessage(snapshot, msg, settings);
        if (verdict instanceof Promise) {
          verdict
            .catch((err: unknown): ValidationVerdict => ({ ok: false, reasons: internalErrorReasons(err) }))
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
          reject(msg, internalErrorReasons(err), send);
          done();
        } catch (again) {
          done(again instanceof Error ? again : new Error(String(again)));
        }
      }
    });

    releaseOnClose(this, stopWatching, () => throttle.stop());
  }

  // Explicit so `this` carries the node's own fields; no credentials.
  RED.nodes.registerType<CdmValidateNode, CdmValidateDef, unknown, Record<string, never>>('cdm-validate', CdmValidate);
};
