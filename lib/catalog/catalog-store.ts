import { catalogDigest, shortDigest } from './catalog-bundle';
import { compileCatalogCasts } from './catalog-casts';
import type { CatalogCasts } from './catalog-casts';
import { checkCatalog, checkCatalogUpdate } from './catalog-check';
import type { HistoryReason } from './catalog-check';
import { loadCatalogFromFiles } from './catalog-loader';
import type { Catalog } from './catalog-model';
import { compileCatalogValidators } from './catalog-validators';
import type { CatalogValidators } from './catalog-validators';
import type { CompatibilityPolicy } from './types';
import type { Reason } from '../reasons';

/** A catalog in force: the catalog and everything compiled from it, built together and never patched. */
export interface CatalogSnapshot {
  readonly catalog: Catalog;
  readonly validators: CatalogValidators;
  readonly casts: CatalogCasts;
  /** `sha256:<hex>` of the catalog's files (catalogDigest). */
  readonly digest: string;
  /** The first 8 hex digits of the digest: what a status line shows. */
  readonly label: string;
  /** Where it came from, in words: `folder /srv/cdm`, `https://...`, `bus tectonic/cdm/_catalog`. */
  readonly origin: string;
  readonly loadedAt: Date;
}

/**
 * Why the catalog in force is not the newest one the source offered:
 * `refused`, a catalog arrived and broke a rule; `unavailable`, the source
 * could not be read at all (a fetch failed, the folder is gone).
 */
export interface CatalogIssue {
  readonly kind: 'refused' | 'unavailable';
  /** Short digest of the refused catalog; absent when none could be read. */
  readonly label?: string;
  readonly origin: string;
  readonly reasons: readonly Reason[];
  readonly at: Date;
}

export type CatalogState =
  | { readonly kind: 'waiting'; readonly issue?: CatalogIssue }
  | { readonly kind: 'ready'; readonly snapshot: CatalogSnapshot; readonly issue?: CatalogIssue };

export type ProposeOutcome =
  | { ok: true; changed: boolean; snapshot: CatalogSnapshot }
  | { ok: false; changed: boolean; reasons: readonly Reason[] };

export interface CatalogStoreOptions {
  /** Compatibility policy for every entity's history; STRICT by default (issue 3). */
  policy?: CompatibilityPolicy;
  now?: () => Date;
}

/**
 * Holds the catalog in force and decides whether a new one may replace it:
 * it must load, compile, keep every entity's history within its level, keep
 * every version sites may still send, and have migrations that compile.
 * A refused catalog leaves the previous one in force, untouched.
 */
export class CatalogStore {
  private readonly policy: CompatibilityPolicy;
  private readonly now: () => Date;
  private readonly listeners = new Set<(state: CatalogState) => void>();
  private current: CatalogState = { kind: 'waiting' };
  /** Digest of the last catalog refused, so a source repeating it is not re-checked and re-reported. */
  private refusedDigest: string | undefined;

  constructor(options: CatalogStoreOptions = {}) {
    this.policy = options.policy ?? 'STRICT';
    this.now = options.now ?? (() => new Date());
  }

  get state(): CatalogState {
    return this.current;
  }

  get snapshot(): CatalogSnapshot | undefined {
    return this.current.kind === 'ready' ? this.current.snapshot : undefined;
  }

  /** Calls `listener` now with the current state and on every change; returns the way to stop. */
  onState(listener: (state: CatalogState) => void): () => void {
    this.listeners.add(listener);
    listener(this.current);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** A catalog as files (from a folder, a bundle); `digest` when the source already computed it. */
  proposeFiles(files: ReadonlyMap<string, string>, origin: string, digest: string = catalogDigest(files)): ProposeOutcome {
    const same = this.unchanged(digest);
    if (same) return same;
    const loaded = loadCatalogFromFiles(files);
    if (!loaded.ok) return this.refuse(digest, origin, loaded.reasons);
    return this.check(loaded.catalog, digest, origin);
  }

  /** A catalog already loaded (e.g. by a test or the command line). */
  propose(catalog: Catalog, origin: string): ProposeOutcome {
    const digest = catalogDigest(catalog.sourceFiles);
    return this.unchanged(digest) ?? this.check(catalog, digest, origin);
  }

  /** The source could not be read; whatever is in force stays. Repeats of the same problem change nothing. */
  reportUnavailable(origin: string, reasons: readonly Reason[]): void {
    const issue = this.current.issue;
    if (issue?.kind === 'unavailable' && sameReasons(issue.reasons, reasons)) return;
    this.setState({ ...this.current, issue: { kind: 'unavailable', origin, reasons, at: this.now() } });
  }

  /**
   * A catalog arrived and was refused before it was even loaded (not signed
   * by a trusted key, a rollback of the sequence): what is in force stays,
   * and the refusal shows in the state like any other.
   */
  reportRefused(origin: string, reasons: readonly Reason[], digest?: string): void {
    const issue = this.current.issue;
    if (issue?.kind === 'refused' && sameReasons(issue.reasons, reasons)) return;
    this.setState({ ...this.current, issue: { kind: 'refused', ...(digest !== undefined ? { label: shortDigest(digest) } : {}), origin, reasons, at: this.now() } });
  }

  /** Forgets every listener; the snapshot stays readable for whoever holds it. */
  close(): void {
    this.listeners.clear();
  }

  private unchanged(digest: string): ProposeOutcome | undefined {
    const snapshot = this.snapshot;
    if (snapshot?.digest === digest) {
      // The source is back to what is in force: whatever it said before no longer applies.
      if (this.current.issue) this.setState({ kind: 'ready', snapshot });
      this.refusedDigest = undefined;
      return { ok: true, changed: false, snapshot };
    }
    if (this.refusedDigest === digest && this.current.issue?.kind === 'refused') {
      return { ok: false, changed: false, reasons: this.current.issue.reasons };
    }
    return undefined;
  }

  private check(catalog: Catalog, digest: string, origin: string): ProposeOutcome {
    const compiled = compileCatalogValidators(catalog);
    if (!compiled.ok) return this.refuse(digest, origin, compiled.reasons);
    const history = checkCatalog(catalog, { policy: this.policy });
    if (!history.compatible) return this.refuse(digest, origin, history.reasons.map(historyReason));
    const previous = this.snapshot;
    if (previous) {
      const update = checkCatalogUpdate(previous.catalog, catalog);
      if (!update.ok) return this.refuse(digest, origin, update.reasons);
    }
    const casts = compileCatalogCasts(catalog);
    if (!casts.ok) return this.refuse(digest, origin, casts.reasons);
    const snapshot: CatalogSnapshot = { catalog, validators: compiled.validators, casts: casts.casts, digest, label: shortDigest(digest), origin, loadedAt: this.now() };
    this.refusedDigest = undefined;
    this.setState({ kind: 'ready', snapshot });
    return { ok: true, changed: true, snapshot };
  }

  private refuse(digest: string, origin: string, reasons: readonly Reason[]): ProposeOutcome {
    this.refusedDigest = digest;
    this.setState({ ...this.current, issue: { kind: 'refused', label: shortDigest(digest), origin, reasons, at: this.now() } });
    return { ok: false, changed: true, reasons };
  }

  private setState(state: CatalogState): void {
    this.current = state;
    for (const listener of this.listeners) listener(state);
  }
}

/** A history finding names its entity and version in the path, so one list of reasons reads on its own. */
function historyReason(r: HistoryReason): Reason {
  const against = r.against === undefined ? '' : ` (against ${r.against})`;
  return { path: `${r.entity}@${r.version} ${r.path}`, rule: r.rule, message: `${r.entity} ${r.version}${against}: ${r.message}` };
}

function sameReasons(a: readonly Reason[], b: readonly Reason[]): boolean {
  return a.length === b.length && a.every((r, i) => r.rule === b[i]?.rule && r.path === b[i]?.path && r.message === b[i]?.message);
}

/** One line for a status: the first reason and how many more there are. */
export function summarizeIssue(issue: CatalogIssue): string {
  const first = issue.reasons[0];
  const more = issue.reasons.length > 1 ? ` (+${issue.reasons.length - 1} more)` : '';
  const what = first ? `${first.path ? `${first.path}: ` : ''}${first.rule}` : 'no reason given';
  return issue.kind === 'refused' ? `catalog ${issue.label !== undefined ? `${issue.label} ` : ''}refused: ${what}${more}` : `catalog source unavailable: ${first?.message ?? what}${more}`;
}
