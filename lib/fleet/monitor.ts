import { type FlowClock, systemClock } from '../flow/in-flight';
import { type Checked, type Reason, reason } from '../reasons';
import type { AlertKind, FleetAlert } from './alert-format';
import { AlertDamper } from './damping';
import { healthScore, SCORE_WEIGHTS, type ScoreInput } from './health-score';
import type { Heartbeat, TemplateFingerprint } from './heartbeat-format';
import { parseHeartbeat, parseTemplateFingerprint } from './monitor-messages';
import type { MonitorSettings } from './monitor-settings';
import type { FleetSiteView, FleetView } from './monitor-view';
import { parseSiteState, type SiteState } from './site-state';
import { HEARTBEAT_FILTER, SITE_ID, STATE_FILTER, siteOfHealthTopic } from './health-topics';
import { currentMismatch, sunsetProblems } from './monitor-versions';
import { parseUntrustedJson } from '../untrusted-json';

/** What the centre has in force: the yardstick for version lag and sunsets. */
export interface CurrentVersions {
  /** The catalog digest (`sha256:<hex>`, or its first 8 hex digits). */
  catalog?: string;
  /** The policy bundle in force, `id@version`. */
  policy?: string;
  /** Sunset day (YYYY-MM-DD, UTC) of each deprecated CDM version, keyed `entity@x.y.z`. */
  sunsets?: ReadonlyMap<string, string>;
}

/** What the monitor subscribes: every site's state and heartbeat, every template's fingerprint (all retained). */
/** A regional hub's list of the sites it carries (docs/fleet.md, Regional hubs). */
export const HUB_SITES_FILTER = 'tectonic/health/+/sites';
export const MONITOR_FILTERS = [STATE_FILTER, HEARTBEAT_FILTER, 'tectonic/templates/#', HUB_SITES_FILTER] as const;

const HISTORY_POINTS = 60;
const RECENT_ALERTS = 100;
const SEVERITY: Record<AlertKind, FleetAlert['severity']> = {
  offline: 'critical',
  missing: 'critical',
  restart: 'warning',
  gap: 'warning',
  'canary-failed': 'critical',
  'version-lag': 'warning',
  sunset: 'warning',
  drift: 'warning',
};

interface SiteRecord {
  site: string;
  expected: boolean;
  heard: boolean;
  state?: SiteState;
  session?: number;
  beat?: Heartbeat;
  /** The monitor's clock when the last beat was sent (its arrival, or earlier for a stale retained one). */
  beatAt?: number;
  stale: boolean;
  skewMs?: number;
  restarts: number;
  gaps: number;
  missedBeats: number;
  rates: FleetSiteView['rates'];
  history: number[];
  /** CDM versions published, with when they were last seen. */
  cdmSeen: Map<string, number>;
  active: Map<AlertKind, FleetAlert & { raisedAt: number }>;
  drift?: FleetSiteView['drift'];
}

export interface FleetMonitorOptions {
  settings: MonitorSettings;
  /** Every alert that leaves (after damping): the node's output and the site's alerts topic. */
  alert: (alert: FleetAlert) => void;
  clock?: FlowClock;
  /** The centre's catalog and policy in force, read at each judgement. */
  current?: () => CurrentVersions;
}

/**
 * The centre's picture of the fleet (issue 16): fed the retained state,
 * heartbeat and template messages it hears, it raises each condition once and
 * its recovery once, through the damper. Silence is found by a periodic
 * check (the check period bounds how late a missing alert is); everything
 * else is judged as the message arrives. Pure: the clock and the outputs are
 * injected, so test/lib drives it without timers or a broker.
 */
export class FleetMonitor {
  private readonly settings: MonitorSettings;
  private readonly clock: FlowClock;
  private readonly damper: AlertDamper;
  private readonly sites = new Map<string, SiteRecord>();
  /** Regional hubs and the sites each carries (`tectonic/health/{hub}/sites`). */
  private readonly hubSites = new Map<string, string[]>();
  /** Sites whose offline alert says their hub is down, by hub: only those clear when it is back. */
  private readonly unreachableVia = new Map<string, string>();
  /** Templates by `name` (the latest heard) and by `name/version`. */
  private readonly templates = new Map<string, TemplateFingerprint>();
  private readonly recent: FleetAlert[] = [];
  private readonly current: () => CurrentVersions;
  private readonly startedAt: number;
  private timer: unknown;
  private closed = false;
  ignoredSites = 0;
  /** Counts of alerts raised, by kind (recovered included), for the metrics. */
  readonly alertCounts = new Map<string, number>();

  constructor(options: FleetMonitorOptions) {
    this.settings = options.settings;
    this.clock = options.clock ?? systemClock;
    this.current = options.current ?? (() => ({}));
    this.startedAt = this.clock.now();
    this.damper = new AlertDamper(this.settings.damping, this.clock, (alert) => {
      this.recent.push(alert);
      if (this.recent.length > RECENT_ALERTS) this.recent.shift();
      this.alertCounts.set(alert.kind, (this.alertCounts.get(alert.kind) ?? 0) + 1);
      options.alert(alert);
    });
    for (const site of this.settings.expected) this.record(site, true);
  }

  /** Starts the periodic check for silent sites. */
  start(): void {
    if (this.timer !== undefined || this.closed) return;
    const tick = (): void => {
      if (this.closed) return;
      this.check();
      this.timer = this.clock.setTimeout(tick, this.settings.checkPeriodMs);
    };
    this.timer = this.clock.setTimeout(tick, this.settings.checkPeriodMs);
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.damper.close();
  }

  get siteCount(): number {
    return this.sites.size;
  }

  /** Any message under the three filters the monitor subscribes (MONITOR_FILTERS), routed by its topic. */
  handle(topic: string, payload: Buffer | string, retained: boolean): Checked<void> {
    if (topic.startsWith('tectonic/templates/')) return this.handleTemplate(topic, payload);
    const site = siteOfHealthTopic(topic);
    if (site !== undefined && topic.endsWith('/state')) return this.handleState(site, payload);
    if (site !== undefined && topic.endsWith('/heartbeat')) return this.handleHeartbeat(site, payload, retained);
    if (site !== undefined && topic.endsWith('/sites')) return this.handleHubSites(site, payload);
    return { ok: false, reasons: [reason('topic', 'unknown', `${topic} is not a health or template topic`)] };
  }

  /** `tectonic/health/{hub}/sites`: the sites a regional hub carries; an empty retained message withdraws the list. */
  handleHubSites(hub: string, payload: Buffer | string): Checked<void> {
    if (payload.length === 0) {
      this.hubSites.delete(hub);
      return { ok: true, value: undefined };
    }
    if (payload.length > 64 * 1024) return { ok: false, reasons: [reason('', 'size', 'a hub\'s sites list is at most 64 KiB')] };
    const parsed = parseUntrustedJson(payload.toString(), '');
    if (!parsed.ok) return parsed;
    const value = parsed.value as { hub?: unknown; sites?: unknown } | null;
    if (value === null || typeof value !== 'object' || !Array.isArray(value.sites) || !value.sites.every((s) => typeof s === 'string' && SITE_ID.test(s))) {
      return { ok: false, reasons: [reason('sites', 'type', 'must be {"hub": id, "sites": [site ids]}')] };
    }
    this.hubSites.set(hub, (value.sites as string[]).filter((s) => s !== hub));
    return { ok: true, value: undefined };
  }

  /** The sites behind a hub that went offline: unreachable through it, as offline (and cleared when the hub is back). */
  private hubWent(hub: string, state: 'online' | 'offline'): void {
    for (const site of this.hubSites.get(hub) ?? []) {
      const rec = this.record(site);
      if (rec === undefined) continue;
      if (state === 'offline') {
        if (rec.active.has('offline')) continue;
        this.unreachableVia.set(site, hub);
        this.raise(rec, 'offline', `unreachable: its regional hub ${hub} is offline`, { severity: 'critical', details: { hub } });
      } else if (this.unreachableVia.get(site) === hub) {
        this.unreachableVia.delete(site);
        this.clear(rec, 'offline', `reachable again through hub ${hub}`);
      }
    }
  }

  /** A message on `tectonic/health/{site}/state`. */
  handleState(site: string, payload: Buffer | string): Checked<void> {
    const parsed = parseSiteState(payload);
    if (!parsed.ok) return parsed;
    const rec = this.record(site);
    if (rec === undefined) return this.overCap(site);
    const state = parsed.value;
    this.heard(rec);
    const previous = rec.session;
    rec.state = state;
    if (state.state === 'online') {
      if (previous !== undefined && state.session !== previous) this.restarted(rec, previous, state.session);
      rec.session = state.session;
      this.unreachableVia.delete(site);
      this.clear(rec, 'offline', `online again (session ${state.session})`);
    } else {
      rec.session = Math.max(previous ?? state.session, state.session);
      const why = state.reason === 'shutdown' ? 'shut down cleanly' : 'connection lost: the broker published its last will';
      this.unreachableVia.delete(site);
      this.raise(rec, 'offline', why, { severity: state.reason === 'shutdown' ? 'warning' : 'critical', since: state.since, details: { reason: state.reason ?? 'unknown' } });
    }
    this.hubWent(site, state.state);
    return { ok: true, value: undefined };
  }

  /** A message on `tectonic/health/{site}/heartbeat`; `retained` is the MQTT retain flag it arrived with. */
  handleHeartbeat(site: string, payload: Buffer | string, retained: boolean): Checked<void> {
    if (payload.length === 0) return { ok: true, value: undefined };
    const parsed = parseHeartbeat(payload, site);
    if (!parsed.ok) return parsed;
    const beat = parsed.value;
    const rec = this.record(site);
    if (rec === undefined) return this.overCap(site);
    const now = this.clock.now();
    const sentAt = Date.parse(beat.sentAt);
    const prior = rec.beat;
    if (prior !== undefined && prior.session === beat.session && beat.seq <= prior.seq) return { ok: true, value: undefined };
    this.heard(rec);
    if (retained) {
      // Sent before we subscribed: how old it is shows on the sender's clock, corrected by the skew measured so far.
      const age = Math.max(0, now - sentAt + (rec.skewMs ?? 0));
      rec.stale = age > beat.intervalMs * 1.5;
      rec.beatAt = now - age;
    } else {
      rec.skewMs = sentAt - now;
      rec.stale = false;
      rec.beatAt = now;
    }
    if (rec.session !== undefined && beat.session !== rec.session && beat.session > rec.session) this.restarted(rec, rec.session, beat.session);
    rec.session = Math.max(rec.session ?? beat.session, beat.session);
    if (prior !== undefined && prior.session === beat.session && beat.seq > prior.seq + 1) {
      const missed = beat.seq - prior.seq - 1;
      rec.gaps += 1;
      rec.missedBeats += missed;
      this.raise(rec, 'gap', `${missed} heartbeat(s) missing in session ${beat.session}: seq ${prior.seq + 1} to ${beat.seq - 1}`, { details: { from: prior.seq + 1, to: beat.seq - 1, missed } });
    }
    this.measureRates(rec, prior, beat);
    rec.beat = beat;
    if (!rec.stale) this.clear(rec, 'missing', `heartbeat ${beat.seq} arrived`);
    for (const published of beat.cdmPublished) rec.cdmSeen.set(published, now);
    this.judgeCanary(rec, beat);
    this.judgeVersions(rec);
    this.judgeDrift(rec);
    return { ok: true, value: undefined };
  }

  /** A message under `tectonic/templates/#`: `{name}` or `{name}/{version}`. */
  handleTemplate(topic: string, payload: Buffer | string): Checked<void> {
    const parsed = parseTemplateFingerprint(payload);
    if (!parsed.ok) return parsed;
    const key = topic.replace(/^tectonic\/templates\//, '');
    if (parsed.value === undefined) this.templates.delete(key);
    else {
      this.templates.set(key, parsed.value);
      this.templates.set(`${parsed.value.name}/${parsed.value.version}`, parsed.value);
      if (!this.templates.has(parsed.value.name) || key === parsed.value.name) this.templates.set(parsed.value.name, parsed.value);
    }
    for (const rec of this.sites.values()) this.judgeDrift(rec);
    return { ok: true, value: undefined };
  }

  /** The centre's catalog or policy changed: every site is judged again. */
  currentChanged(): void {
    for (const rec of this.sites.values()) this.judgeVersions(rec);
  }

  /** Silence, sunsets coming due, and restarts and gaps that have settled; run every check period. */
  check(): void {
    const now = this.clock.now();
    const { missingAfterIntervals: times, defaultIntervalMs } = this.settings;
    for (const rec of this.sites.values()) {
      const interval = rec.beat?.intervalMs ?? defaultIntervalMs;
      const threshold = interval * times;
      if (!rec.heard) {
        if (rec.expected && now - this.startedAt >= threshold) {
          this.raise(rec, 'missing', `expected site never heard from (no state, no heartbeat) in ${seconds(now - this.startedAt)} s`, { since: new Date(this.startedAt).toISOString(), details: { neverSeen: true } });
        }
        continue;
      }
      const offline = rec.state?.state === 'offline';
      if (rec.beatAt !== undefined && !offline && now - rec.beatAt > threshold) {
        // Silent since its last beat: that is when the condition began.
        this.raise(rec, 'missing', `no heartbeat for ${seconds(now - rec.beatAt)} s (threshold ${seconds(threshold)} s: ${times} × ${seconds(interval)} s)`, {
          since: new Date(rec.beatAt).toISOString(),
          details: { lastSeq: rec.beat?.seq ?? -1, thresholdMs: threshold },
        });
      }
      for (const kind of ['restart', 'gap'] as const) {
        const raised = rec.active.get(kind);
        if (raised !== undefined && !offline && !rec.active.has('missing') && now - raised.raisedAt >= interval) this.clear(rec, kind, `up and in sequence for ${seconds(now - raised.raisedAt)} s`);
      }
      if (rec.cdmSeen.size > 0) {
        for (const [published, at] of rec.cdmSeen) if (now - at > threshold) rec.cdmSeen.delete(published);
        this.judgeSunsets(rec);
      }
    }
  }

  view(): FleetView {
    const now = this.clock.now();
    const current = this.current();
    const sites = [...this.sites.values()].map((rec) => this.siteView(rec, now)).sort((a, b) => a.health.score - b.health.score || a.site.localeCompare(b.site));
    const bom: FleetView['bom'] = {};
    const tally = (component: string, version: string | undefined): void => {
      if (version === undefined || version === '') return;
      const row = (bom[component] ??= {});
      row[version] = (row[version] ?? 0) + 1;
    };
    for (const s of sites) {
      tally('pack', s.versions?.pack);
      tally('nodeRed', s.versions?.nodeRed);
      tally('node', s.versions?.node);
      tally('catalog', s.versions?.catalog);
      tally('policy', s.versions?.policy);
      tally('template', s.template === undefined ? undefined : `${s.template.name}@${s.template.version}`);
    }
    const templates = [...this.templates.entries()].filter(([key, t]) => key === `${t.name}/${t.version}`).map(([, t]) => t);
    return {
      generatedAt: new Date(now).toISOString(),
      weights: { ...SCORE_WEIGHTS },
      current: { ...(current.catalog === undefined ? {} : { catalog: current.catalog }), ...(current.policy === undefined ? {} : { policy: current.policy }) },
      sites,
      bom,
      templates,
      recentAlerts: [...this.recent].reverse(),
      heldAlerts: this.damper.heldTotal,
      ignoredSites: this.ignoredSites,
    };
  }

  /** One site's view, for metrics that read a single figure without building the whole fleet's. */
  siteViews(): FleetSiteView[] {
    const now = this.clock.now();
    return [...this.sites.values()].map((rec) => this.siteView(rec, now));
  }

  private siteView(rec: SiteRecord, now: number): FleetSiteView {
    const beat = rec.beat;
    const rejects: Record<string, number> = {};
    for (const stage of Object.values(beat?.stages ?? {})) for (const [rule, n] of Object.entries(stage.rejected)) rejects[rule] = (rejects[rule] ?? 0) + n;
    const view: FleetSiteView = {
      site: rec.site,
      expected: rec.expected,
      state: rec.state?.state ?? 'unknown',
      restarts: rec.restarts,
      gaps: rec.gaps,
      missedBeats: rec.missedBeats,
      rates: { ...rec.rates },
      history: [...rec.history],
      rejects,
      outboxDepth: beat?.outboxDepth ?? 0,
      cdmPublished: [...rec.cdmSeen.keys()].sort(),
      health: healthScore(this.scoreInput(rec, now)),
      alerts: [...rec.active.values()].map(({ raisedAt: _raisedAt, ...alert }) => alert),
    };
    if (rec.state?.reason !== undefined) view.stateReason = rec.state.reason;
    if (rec.session !== undefined) view.session = rec.session;
    if (rec.state !== undefined) view.stateSince = rec.state.since;
    if (beat !== undefined && rec.beatAt !== undefined) {
      view.heartbeat = {
        seq: beat.seq,
        sentAt: beat.sentAt,
        ageSeconds: Math.max(0, (now - rec.beatAt) / 1000),
        intervalMs: beat.intervalMs,
        stale: rec.stale,
        skewReported: rec.skewMs !== undefined && Math.abs(rec.skewMs) > this.settings.skewWarnMs,
        uptimeSeconds: beat.uptimeSeconds,
        ...(rec.skewMs === undefined ? {} : { skewMs: rec.skewMs }),
      };
      view.versions = { ...beat.versions };
      view.fingerprint = beat.flows.fingerprint;
      if (beat.flows.template !== undefined) view.template = { ...beat.flows.template };
      if (beat.canary !== undefined) view.canary = beat.canary;
      if (beat.lastError !== undefined) view.lastError = beat.lastError;
    }
    if (rec.drift !== undefined) view.drift = { ...rec.drift };
    return view;
  }

  private scoreInput(rec: SiteRecord, now: number): ScoreInput {
    const offline = rec.active.get('offline');
    const missing = rec.active.get('missing');
    let liveness: ScoreInput['liveness'] = { kind: 'up' };
    if (offline !== undefined) liveness = { kind: 'down', reason: `offline: ${offline.reason}` };
    else if (missing !== undefined) liveness = { kind: 'down', reason: `missing: ${missing.reason}` };
    else if (rec.beat !== undefined && rec.beatAt !== undefined && now - rec.beatAt > rec.beat.intervalMs * 1.5) liveness = { kind: 'late', reason: `last heartbeat ${seconds(now - rec.beatAt)} s ago (interval ${seconds(rec.beat.intervalMs)} s)` };
    const canary = rec.active.get('canary-failed');
    const versionProblems: ScoreInput['versionProblems'] = [];
    const lag = rec.active.get('version-lag');
    if (lag !== undefined) versionProblems.push({ reason: lag.reason, severe: false });
    const sunset = rec.active.get('sunset');
    if (sunset !== undefined) versionProblems.push({ reason: sunset.reason, severe: sunset.severity === 'critical' });
    const drift = rec.active.get('drift');
    return {
      liveness,
      ...(canary === undefined ? {} : { canaryFailure: canary.reason }),
      rejectRate: rec.rates.rejectRate,
      outboxDepth: rec.beat?.outboxDepth ?? 0,
      versionProblems,
      ...(drift === undefined ? {} : { drift: drift.reason }),
    };
  }

  private record(site: string, expected = false): SiteRecord | undefined {
    let rec = this.sites.get(site);
    if (rec === undefined) {
      if (!SITE_ID.test(site) || this.sites.size >= this.settings.maxSites) return undefined;
      rec = {
        site,
        expected,
        heard: false,
        stale: false,
        restarts: 0,
        gaps: 0,
        missedBeats: 0,
        rates: { inPerSecond: 0, outPerSecond: 0, rejectedPerSecond: 0, rejectRate: 0 },
        history: [],
        cdmSeen: new Map(),
        active: new Map(),
      };
      this.sites.set(site, rec);
    }
    return rec;
  }

  private overCap(site: string): Checked<void> {
    this.ignoredSites += 1;
    return { ok: false, reasons: [reason('site', 'too-many', `site "${site}" is not tracked: the monitor tracks at most ${this.settings.maxSites} sites`)] };
  }

  private heard(rec: SiteRecord): void {
    if (rec.heard) return;
    rec.heard = true;
    const missing = rec.active.get('missing');
    if (missing?.details?.neverSeen === true) this.clear(rec, 'missing', 'the expected site was heard from');
  }

  private restarted(rec: SiteRecord, from: number, to: number): void {
    rec.restarts += 1;
    this.raise(rec, 'restart', `restarted: session ${from} → ${to}`, { details: { from, to } });
  }

  private measureRates(rec: SiteRecord, prior: Heartbeat | undefined, beat: Heartbeat): void {
    if (prior === undefined || prior.session !== beat.session) return;
    const seconds = (Date.parse(beat.sentAt) - Date.parse(prior.sentAt)) / 1000;
    if (!(seconds > 0)) return;
    const totals = (b: Heartbeat): { in: number; out: number; rejected: number } => {
      const stages = Object.entries(b.stages);
      // The pipeline's ends: records in at its first stage, out at publish (else the busiest stage).
      const publish = b.stages.publish;
      let rejected = 0;
      for (const [, s] of stages) for (const n of Object.values(s.rejected)) rejected += n;
      return {
        in: Math.max(0, ...stages.map(([, s]) => s.in)),
        out: publish !== undefined ? publish.out : Math.max(0, ...stages.map(([, s]) => s.out)),
        rejected,
      };
    };
    const a = totals(prior);
    const b = totals(beat);
    const delta = (x: number, y: number): number => Math.max(0, y - x);
    const dIn = delta(a.in, b.in);
    const dRejected = delta(a.rejected, b.rejected);
    rec.rates = {
      inPerSecond: dIn / seconds,
      outPerSecond: delta(a.out, b.out) / seconds,
      rejectedPerSecond: dRejected / seconds,
      rejectRate: dIn === 0 ? (dRejected > 0 ? 1 : 0) : Math.min(1, dRejected / dIn),
    };
    rec.history.push(Math.round(rec.rates.outPerSecond * 100) / 100);
    if (rec.history.length > HISTORY_POINTS) rec.history.shift();
  }

  private judgeCanary(rec: SiteRecord, beat: Heartbeat): void {
    const canary = beat.canary;
    if (canary === undefined) return;
    if (canary.ok) this.clear(rec, 'canary-failed', `synthetic transaction ${canary.nonce} passed in ${canary.latencyMs} ms`);
    else this.raise(rec, 'canary-failed', `synthetic transaction failed at stage ${canary.stage}: ${canary.reason}`, { details: { stage: canary.stage, nonce: canary.nonce } });
  }

  private judgeVersions(rec: SiteRecord): void {
    const versions = rec.beat?.versions;
    if (versions === undefined) return;
    const problems: Reason[] = currentMismatch(versions, this.current());
    if (problems.length > 0) this.raise(rec, 'version-lag', problems.map((p) => p.message).join('; '), { details: Object.fromEntries(problems.map((p) => [p.path, p.message])), update: true });
    else this.clear(rec, 'version-lag', 'runs the current catalog and policy');
    this.judgeSunsets(rec);
  }

  private judgeSunsets(rec: SiteRecord): void {
    const found = sunsetProblems([...rec.cdmSeen.keys()], this.current().sunsets, new Date(this.clock.now()), this.settings.sunsetWarnDays);
    if (found.length === 0) {
      this.clear(rec, 'sunset', 'publishes no CDM version near or past its sunset');
      return;
    }
    const past = found.some((f) => f.past);
    this.raise(rec, 'sunset', found.map((f) => f.message).join('; '), { severity: past ? 'critical' : 'warning', update: true, details: { versions: found.map((f) => f.version).join(',') } });
  }

  private judgeDrift(rec: SiteRecord): void {
    const flows = rec.beat?.flows;
    const template = flows?.template;
    if (flows === undefined || template === undefined) return;
    const reference = this.templates.get(`${template.name}/${template.version}`) ?? this.templates.get(template.name);
    if (reference === undefined || reference.version !== template.version) {
      rec.drift = undefined;
      return;
    }
    const drifting = reference.fingerprint !== flows.fingerprint;
    rec.drift = { drifting, expected: reference.fingerprint, actual: flows.fingerprint };
    if (drifting) {
      this.raise(rec, 'drift', `flows differ from template ${template.name}@${template.version} (fingerprint ${flows.fingerprint.slice(0, 12)}, template ${reference.fingerprint.slice(0, 12)})`, {
        details: { template: `${template.name}@${template.version}`, expected: reference.fingerprint, actual: flows.fingerprint },
      });
    } else this.clear(rec, 'drift', `flows match template ${template.name}@${template.version} again`);
  }

  private raise(rec: SiteRecord, kind: AlertKind, why: string, extra: { severity?: FleetAlert['severity']; since?: string; details?: FleetAlert['details']; update?: boolean } = {}): void {
    const existing = rec.active.get(kind);
    if (existing !== undefined) {
      // Still raised: the reason may sharpen (another version lagging), but no second alert goes out.
      if (extra.update === true) {
        existing.reason = why;
        if (extra.severity !== undefined) existing.severity = extra.severity;
      }
      return;
    }
    const now = this.clock.now();
    const alert: FleetAlert & { raisedAt: number } = {
      site: rec.site,
      kind,
      severity: extra.severity ?? SEVERITY[kind],
      since: extra.since ?? new Date(now).toISOString(),
      reason: why,
      raisedAt: now,
    };
    if (rec.session !== undefined) alert.session = rec.session;
    if (extra.details !== undefined) alert.details = extra.details;
    rec.active.set(kind, alert);
    const { raisedAt: _raisedAt, ...out } = alert;
    this.damper.offer(out);
  }

  private clear(rec: SiteRecord, kind: AlertKind, why: string): void {
    const raised = rec.active.get(kind);
    if (raised === undefined) return;
    rec.active.delete(kind);
    const alert: FleetAlert = { site: rec.site, kind: 'recovered', of: kind, severity: 'info', since: new Date(this.clock.now()).toISOString(), reason: why };
    if (rec.session !== undefined) alert.session = rec.session;
    this.damper.offer(alert);
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms < 10_000 ? 1 : 0);
}
