import type { Node, NodeAPI, NodeStatus } from 'node-red';
import type { CatalogSnapshot, CatalogState } from '../../lib/catalog/catalog-store';
import { summarizeIssue } from '../../lib/catalog/catalog-store';
import { findConfig } from './find-config';
import type { Translate } from './i18n';

const PROBLEMS = { none: 'cdm-catalog:cdm-catalog.errors.none', missing: 'cdm-catalog:cdm-catalog.errors.missing', notStarted: 'cdm-catalog:cdm-catalog.errors.notStarted' };

/**
 * What a node that uses a cdm-catalog config (cdm-validate, cdm-map) sees of
 * it. The config node owns the source, the polling and the compatibility
 * checks; its users only read the catalog in force and follow its changes.
 */
export interface CatalogView {
  /** `waiting` (no catalog yet) or `ready` (a snapshot in force), each with the latest issue, if any. */
  readonly state: CatalogState;
  /** The catalog in force, its compiled validators and casts; undefined while waiting. */
  readonly snapshot: CatalogSnapshot | undefined;
  /** Calls `listener` now and on every change (new catalog, refusal, source problem); returns the way to stop. */
  onState(listener: (state: CatalogState) => void): () => void;
}

export interface CdmCatalogNode extends Node {
  catalog?: CatalogView;
  /** Why the config could not start, in plain words. */
  problem?: string;
}

/** Finds the catalog a node is configured with, or says in plain words why there is none. */
export function findCatalog(RED: NodeAPI, id: string | undefined): { catalog: CatalogView } | { problem: string } {
  return findConfig<'catalog', CatalogView>(RED, 'catalog', id, PROBLEMS);
}

/**
 * The status a user of the catalog shows. Red while there is no catalog
 * (nothing can be validated), yellow while a newer catalog was refused or
 * the source is unreachable (the previous one is still in force), and
 * otherwise `healthy`, which the user supplies with its own counters.
 */
export function catalogStatus(t: Translate, state: CatalogState, healthy: NodeStatus, detail = ''): NodeStatus {
  const text = (stateText: string): string => (detail === '' ? stateText : t('cdm-catalog:cdm-catalog.status.withDetail', { state: stateText, detail }));
  if (state.kind === 'waiting') {
    if (state.issue) return { fill: 'red', shape: 'dot', text: text(t('cdm-catalog:cdm-catalog.status.noCatalog', { issue: summarizeIssue(state.issue) })) };
    return { fill: 'red', shape: 'ring', text: text(t('cdm-catalog:cdm-catalog.status.waiting')) };
  }
  if (state.issue) return { fill: 'yellow', shape: 'dot', text: text(t('cdm-catalog:cdm-catalog.status.issueInForce', { issue: summarizeIssue(state.issue), label: state.snapshot.label })) };
  return healthy;
}
