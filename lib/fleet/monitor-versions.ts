import { type Reason, reason } from '../reasons';
import type { Catalog } from '../catalog/catalog-model';
import type { Heartbeat } from './heartbeat-format';

/** The hex of a catalog digest however it is written (`sha256:<hex>`, `catalog 5d0c81e2`, the short form). */
function digestHex(text: string): string | undefined {
  return /[0-9a-f]{8,64}/.exec(text.toLowerCase())?.[0];
}

/** Whether two catalog names are the same catalog: equal digests, or one the other's short form (8 or more hex digits). */
export function sameCatalog(a: string, b: string): boolean {
  const x = digestHex(a);
  const y = digestHex(b);
  if (x === undefined || y === undefined) return a === b;
  return x.startsWith(y) || y.startsWith(x);
}

/** `id@version` (the policy bundle's id and its integer version), or undefined. */
export function parsePolicyName(text: string): { id: string; version: number } | undefined {
  const m = /^(.+)@(\d+)$/.exec(text.trim());
  return m === null ? undefined : { id: m[1] as string, version: Number(m[2]) };
}

/**
 * Where a site runs something older than the centre has in force. A catalog
 * is named by its digest, which has no order: any other catalog than the
 * current one lags. A policy has an id and a version that only increases
 * (docs/policy-bundle.md): a lower version of the same bundle lags, another
 * bundle id is not the current one; a higher version is the centre's lag,
 * not the site's, and says nothing. Only what both sides name is compared.
 */
export function currentMismatch(versions: Heartbeat['versions'], current: { catalog?: string; policy?: string }): Reason[] {
  const out: Reason[] = [];
  if (current.catalog !== undefined && versions.catalog !== undefined && !sameCatalog(versions.catalog, current.catalog)) {
    out.push(reason('catalog', 'catalog-lag', `catalog ${versions.catalog}, current ${current.catalog}`));
  }
  if (current.policy !== undefined && versions.policy !== undefined) {
    const site = parsePolicyName(versions.policy);
    const centre = parsePolicyName(current.policy);
    if (site === undefined || centre === undefined) {
      if (versions.policy !== current.policy) out.push(reason('policy', 'policy-lag', `policy ${versions.policy}, current ${current.policy}`));
    } else if (site.id !== centre.id || site.version < centre.version) {
      out.push(reason('policy', 'policy-lag', `policy ${versions.policy}, current ${current.policy}`));
    }
  }
  return out;
}

const DAY_MS = 86_400_000;

export interface SunsetProblem {
  version: string;
  past: boolean;
  message: string;
}

/**
 * The published CDM versions (`entity@x.y.z`) that are past their sunset or
 * within `warnDays` of it. The sunset day itself is still accepted, as
 * cdm-validate does (docs/catalog.md "Deprecation"): past means from the
 * following midnight, UTC.
 */
export function sunsetProblems(published: readonly string[], sunsets: ReadonlyMap<string, string> | undefined, now: Date, warnDays: number): SunsetProblem[] {
  if (sunsets === undefined || sunsets.size === 0) return [];
  const out: SunsetProblem[] = [];
  for (const version of [...published].sort()) {
    const day = sunsets.get(version);
    if (day === undefined) continue;
    const endsAt = Date.parse(`${day}T00:00:00Z`) + DAY_MS;
    if (Number.isNaN(endsAt)) continue;
    if (now.getTime() >= endsAt) out.push({ version, past: true, message: `publishes ${version}, past its sunset ${day}` });
    else if (now.getTime() >= endsAt - DAY_MS - warnDays * DAY_MS) {
      const days = Math.ceil((endsAt - DAY_MS - now.getTime()) / DAY_MS);
      out.push({ version, past: false, message: `publishes ${version}, sunset ${day} (in ${Math.max(0, days)} day(s))` });
    }
  }
  return out;
}

/** Each deprecated version's sunset day in a catalog, keyed `entity@x.y.z`: the monitor's yardstick for `sunset`. */
export function sunsetsOf(catalog: Catalog): Map<string, string> {
  const out = new Map<string, string>();
  for (const entity of catalog.entities.values()) {
    for (const v of entity.versions) if (v.deprecation?.sunset !== undefined) out.set(`${v.entity}@${v.version}`, v.deprecation.sunset);
  }
  return out;
}
