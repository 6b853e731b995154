import type { Node, NodeAPI, NodeStatus } from 'node-red';
import type { CompiledPolicy, PolicyInput, PolicyVerdict } from '../../lib/policy/engine';
import type { SitePolicyStatus } from '../../lib/policy/site-policy';
import { findConfig } from './find-config';
import type { Translate } from './i18n';

const PROBLEMS = { none: 'tectonic-policy:tectonic-policy.errors.none', missing: 'tectonic-policy:tectonic-policy.errors.missing', notStarted: 'tectonic-policy:tectonic-policy.errors.notStarted' };

/**
 * What a node that uses a tectonic-policy config (policy-gate, and
 * bus-publish for retry and rate) sees of it. The config node owns the
 * source, the trust checks and the cache; its users ask for verdicts and
 * follow changes, so a new bundle takes effect without a redeploy.
 */
export interface PolicyView {
  readonly status: SitePolicyStatus;
  /** The compiled policy while one is in force and current; undefined while failing closed. */
  readonly compiled: CompiledPolicy | undefined;
  /** Never throws; fails closed (a reject with the reason, no payload) while no valid, current bundle is in force. */
  evaluate(input: PolicyInput): PolicyVerdict;
  /** Calls `listener` now and on every change (new bundle, refusal, outage with nothing in force, expiry); returns the way to stop. */
  onChange(listener: (status: SitePolicyStatus) => void): () => void;
}

export interface PolicyCredentials {
  /** One or more PEM public keys (SPKI) this site trusts. */
  publicKeys?: string;
  /** The site's secret for `hash` masks. */
  hashKey?: string;
}

export interface TectonicPolicyNode extends Node<PolicyCredentials> {
  policy?: PolicyView;
  /** Why the config could not start, in plain words. */
  problem?: string;
}

/** Finds the policy a node is configured with, or says in plain words why there is none. */
export function findPolicy(RED: NodeAPI, id: string | undefined): { policy: PolicyView } | { problem: string } {
  return findConfig<'policy', PolicyView>(RED, 'policy', id, PROBLEMS);
}

/**
 * The status a user of the policy shows: red with the reason while failing
 * closed, yellow while in force under a standing warning (the demo key),
 * green `bundle@version` otherwise, each followed by the user's counters.
 */
export function policyStatus(t: Translate, status: SitePolicyStatus, detail = ''): NodeStatus {
  const text = (stateText: string): string => (detail === '' ? stateText : t('tectonic-policy:tectonic-policy.status.withDetail', { state: stateText, detail }));
  if (status.state === 'fail-closed') return { fill: 'red', shape: 'dot', text: text(t('tectonic-policy:tectonic-policy.status.failClosed', { rule: status.reason.rule, reason: clip(status.reason.message) })) };
  if (status.notice !== undefined) return { fill: 'yellow', shape: 'dot', text: text(t('tectonic-policy:tectonic-policy.status.notice', { bundle: status.name, notice: status.notice })) };
  return { fill: 'green', shape: 'dot', text: text(status.name) };
}

/** The editor shows a status on one line under the node; the full reason is in the log and on the reject output. */
function clip(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
