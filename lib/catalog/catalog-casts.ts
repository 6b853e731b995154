import semver from 'semver';
import { compileMappingSpec } from '../mapping/compile';
import type { CompiledMapping } from '../mapping/compile';
import type { Catalog, CatalogMigration } from './catalog-model';
import type { Reason } from '../reasons';

export type CastResult = { ok: true; value: unknown } | { ok: false; reasons: Reason[] };

export interface CatalogCasts {
  /**
   * The migrations that take `entity` from one version to another, fewest
   * steps first (1.0.0 -> 1.1.0 -> 1.2.0, or back where down-migrations
   * exist); undefined when no chain of migrations connects them.
   */
  route(entity: string, from: string, to: string): readonly CatalogMigration[] | undefined;
  /**
   * Runs the chain on a record. Synchronous when every mapping of the chain
   * is (the usual case), so a validator in a hot flow does not pay for a
   * promise per message.
   */
  cast(entity: string, from: string, to: string, record: unknown): CastResult | Promise<CastResult>;
}

export type CastsResult = { ok: true; casts: CatalogCasts } | { ok: false; reasons: Reason[] };

interface Step {
  migration: CatalogMigration;
  mapping: CompiledMapping;
}

/**
 * Compiles every migration of the catalog once, at load (STYLE: compile
 * once, look up per message). A migration that does not compile refuses the
 * whole catalog: a site would otherwise find out in the middle of a
 * migration window.
 */
export function compileCatalogCasts(catalog: Catalog): CastsResult {
  const reasons: Reason[] = [];
  const edges = new Map<string, Step[]>();
  for (const entity of catalog.entities.values()) {
    for (const migration of entity.migrations) {
      const compiled = compileMappingSpec(migration.spec);
      if (!compiled.ok) {
        for (const r of compiled.reasons) reasons.push({ path: `${migration.file}${r.path ? `#${r.path}` : ''}`, rule: 'invalid-mapping-spec', message: `${migration.file}: ${r.message}` });
        continue;
      }
      const key = `${entity.name}@${migration.from}`;
      const list = edges.get(key) ?? [];
      list.push({ migration, mapping: compiled.value });
      edges.set(key, list);
    }
  }
  if (reasons.length > 0) return { ok: false, reasons };
  // Deterministic routes: neighbours in version order.
  for (const list of edges.values()) list.sort((a, b) => semver.compare(a.migration.to, b.migration.to));

  const routes = new Map<string, Step[] | undefined>();
  const findRoute = (entity: string, from: string, to: string): Step[] | undefined => {
    const key = `${entity}@${from}>${to}`;
    if (routes.has(key)) return routes.get(key);
    const route = breadthFirst(edges, entity, from, to);
    routes.set(key, route);
    return route;
  };

  return {
    ok: true,
    casts: {
      route: (entity, from, to) => findRoute(entity, from, to)?.map((s) => s.migration),
      cast: (entity, from, to, record) => {
        const route = findRoute(entity, from, to);
        if (route === undefined) return { ok: false, reasons: [{ path: '', rule: 'no-migration', message: `the catalog has no chain of migrations from ${entity} ${from} to ${to}` }] };
        return runChain(route, 0, record);
      },
    },
  };
}

function breadthFirst(edges: ReadonlyMap<string, Step[]>, entity: string, from: string, to: string): Step[] | undefined {
  if (from === to) return [];
  const cameFrom = new Map<string, Step[]>([[from, []]]);
  let frontier = [from];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const version of frontier) {
      const path = cameFrom.get(version) ?? [];
      for (const step of edges.get(`${entity}@${version}`) ?? []) {
        if (cameFrom.has(step.migration.to)) continue;
        const route = [...path, step];
        if (step.migration.to === to) return route;
        cameFrom.set(step.migration.to, route);
        next.push(step.migration.to);
      }
    }
    frontier = next;
  }
  return undefined;
}

function runChain(route: readonly Step[], start: number, input: unknown): CastResult | Promise<CastResult> {
  let record = input;
  for (let i = start; i < route.length; i++) {
    const step = route[i] as Step;
    const out = step.mapping.map(record);
    if (out instanceof Promise) {
      return out.then(
        (result: Awaited<typeof out>) => (result.ok ? runChain(route, i + 1, result.value) : stepFailed(step, result.reasons)),
        (err: unknown) => stepFailed(step, [{ path: '', rule: 'cast-failed', message: (err as Error).message }]),
      );
    }
    if (!out.ok) return stepFailed(step, out.reasons);
    record = out.value;
  }
  return { ok: true, value: record };
}

function stepFailed(step: Step, reasons: readonly Reason[]): CastResult {
  const m = step.migration;
  return {
    ok: false,
    reasons: [{ path: '', rule: 'cast-failed', message: `migration ${m.entity} ${m.from} -> ${m.to} (${m.file}) refused the record` }, ...reasons],
  };
}
