import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { JsonObject, JsonValue } from '../catalog/types';
import { readEnvelope } from '../envelope/read-envelope';
import { checkBundle, parseBundleText } from '../policy/bundle-format';
import type { PolicyVerdict } from '../policy/engine';
import { PolicyState } from '../policy/policy-state';
import type { PolicyStatus } from '../policy/policy-state';
import { generatePolicyKeyPair, loadPrivateKey, loadPublicKey, signBundle } from '../policy/signature';
import { checkBundleTrust } from '../policy/trust';
import type { Reason } from '../reasons';
import { fileProblem, parseCommandArgs, parseRecords, readText } from './cli-input';
import { EXIT } from './cli-types';
import { TectonicError } from '../errors';
import type { CliCommand, CliIo, ExitCode } from './cli-types';
import { formatReason, json } from './reason-format';

/** The environment variable `apply` reads the site's hash key from when --hash-key is not given. */
export const HASH_KEY_ENV = 'TECTONIC_POLICY_HASH_KEY';

export const policyCommand: CliCommand = {
  name: 'policy',
  summary: 'policy bundles: make a signing key, sign, verify, and apply one to records',
  usage: `tectonic policy keygen --out DIR [--force] [--json]
    writes DIR/policy.key (private, mode 0600) and DIR/policy.pub (public), both PEM;
    refuses to overwrite an existing key unless --force
  tectonic policy sign BUNDLE --key KEY [--out FILE]
    BUNDLE in YAML or JSON; prints the signed bundle as JSON, or writes FILE
    (YAML when FILE ends in .yaml or .yml); exit 1 when BUNDLE is not a valid bundle
  tectonic policy verify SIGNED --pub PUB... [--last-seen-version N] [--max-bytes N] [--json]
    exit 0 the bundle is trusted and current, 1 it is not (with the reason)
  tectonic policy apply --bundle SIGNED --pub PUB... [RECORDS] [--site SITE] [--entity ENTITY@VERSION]
                        [--tls] [--hash-key KEY] [--last-seen-version N] [--json]
    RECORDS: JSON records, one per line or a JSON array ("-" or nothing reads standard input);
    a record is a message { payload, cdm [, transport] } or a bare payload (then --entity gives its envelope)
    --site      the site the gate runs at (default: each record's cdm.site)
    --tls       the bus connection is TLS (for records that do not say)
    --hash-key  the site's key for hash masks (default: $${HASH_KEY_ENV})
    exit 0 every record passes, 1 at least one is rejected (all are when the bundle is not trusted)
  --pub may be repeated (key rotation); exit 2 for usage or input errors`,
  async run(args, io) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'keygen':
        return keygen(rest, io);
      case 'sign':
        return signCommand(rest, io);
      case 'verify':
        return verifyCommand(rest, io);
      case 'apply':
        return applyCommand(rest, io);
      default:
        throw new TectonicError('USAGE', sub === undefined ? 'missing subcommand: keygen, sign, verify or apply' : `unknown subcommand "${sub}" (expected: keygen, sign, verify, apply)`);
    }
  },
};

async function keygen(args: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(args, { out: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } });
  if (positionals.length > 0) throw new TectonicError('USAGE', `unexpected argument "${positionals[0] ?? ''}"`);
  if (typeof values.out !== 'string') throw new TectonicError('USAGE', '--out DIR is required');
  const dir = resolve(io.cwd, values.out);
  const keyFile = join(dir, 'policy.key');
  const pubFile = join(dir, 'policy.pub');
  if (values.force !== true) {
    for (const file of [keyFile, pubFile]) {
      if (await exists(file)) throw new TectonicError('USAGE', `${file} exists; a signing key is not overwritten unless --force is given`);
    }
  }
  const pair = generatePolicyKeyPair();
  try {
    await mkdir(dir, { recursive: true });
    // The mode on writeFile only applies when the file is created; chmod
    // covers --force over an existing, more open file.
    await writeFile(keyFile, pair.privateKeyPem, { mode: 0o600 });
    await chmod(keyFile, 0o600);
    await writeFile(pubFile, pair.publicKeyPem, { mode: 0o644 });
  } catch (err) {
    throw new TectonicError('USAGE', `cannot write the key pair to ${dir}: ${fileProblem(err, 'folder')}`);
  }
  if (values.json === true) io.out(json({ keyId: pair.keyId, privateKey: keyFile, publicKey: pubFile }));
  else io.out(`key ${pair.keyId}\n  private  ${keyFile}  (keep it secret; sign with it)\n  public   ${pubFile}  (give it to every site)\n`);
  return EXIT.ok;
}

async function signCommand(args: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(args, { key: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new TectonicError('USAGE', 'give exactly one BUNDLE file');
  if (typeof values.key !== 'string') throw new TectonicError('USAGE', '--key KEY is required');
  const key = loadPrivateKey(await readText(values.key, io));
  if (!key.ok) throw new TectonicError('USAGE', `${values.key} ${key.message}`);

  const parsed = parseBundleText(await readText(file, io), file);
  if (!parsed.ok) throw new TectonicError('USAGE', parsed.reasons.map((r) => r.message).join('\n'));
  const checked = checkBundle(parsed.value);
  if (!checked.ok) {
    // Signing an invalid bundle would only move the failure to every site.
    if (values.json === true) io.out(json({ signed: false, reasons: checked.reasons }));
    else io.out(`NOT signed: ${file} is not a valid policy bundle, ${checked.reasons.length} problem(s):\n${checked.reasons.map((r) => formatReason(r)).join('\n')}\n`);
    return EXIT.failed;
  }
  const signed = signBundle(parsed.value as JsonObject, key.key);
  if (!signed.ok) throw new TectonicError('USAGE', signed.reason.message);

  const out = values.out;
  if (typeof out !== 'string') {
    io.out(json(signed.signed));
    return EXIT.ok;
  }
  const yaml = /\.ya?ml$/i.test(out);
  const text = yaml ? toYaml(signed.signed, { lineWidth: 0 }) : json(signed.signed);
  try {
    await writeFile(resolve(io.cwd, out), text);
  } catch (err) {
    throw new TectonicError('USAGE', `cannot write ${out}: ${fileProblem(err, 'folder')}`);
  }
  const bundle = checked.value;
  io.err(`signed ${bundle.id}@${bundle.version} with key ${key.keyId} -> ${out}\n`);
  return EXIT.ok;
}

async function verifyCommand(args: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(args, {
    pub: { type: 'string', multiple: true },
    'last-seen-version': { type: 'string' },
    'max-bytes': { type: 'string' },
    json: { type: 'boolean' },
  });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new TectonicError('USAGE', 'give exactly one SIGNED bundle file');
  const trustedKeys = await readTrustedKeys(values.pub, io);
  const lastSeenVersion = wholeNumber(values['last-seen-version'], '--last-seen-version');
  const maxBundleBytes = wholeNumber(values['max-bytes'], '--max-bytes');
  const result = checkBundleTrust({
    signed: await readText(file, io),
    trustedKeys,
    now: () => new Date(),
    ...(lastSeenVersion !== undefined ? { lastSeenVersion } : {}),
    ...(maxBundleBytes !== undefined ? { maxBundleBytes } : {}),
  });
  if (values.json === true) {
    if (result.ok) {
      const b = result.bundle;
      io.out(json({ valid: true, id: b.id, version: b.version, issuedAt: b.issuedAt, expiresAt: b.expiresAt, keyId: result.keyId, rules: b.rules.length }));
    } else io.out(json({ valid: false, reason: result.reason, details: result.details }));
  } else if (result.ok) {
    const b = result.bundle;
    io.out(`valid: ${b.id}@${b.version}, signed with key ${result.keyId}, ${b.rules.length} rule(s), expires ${b.expiresAt}\n`);
  } else {
    io.out(`NOT valid: [${result.reason.rule}] ${result.reason.message}\n${result.details.length > 1 ? `${result.details.map((r) => formatReason(r)).join('\n')}\n` : ''}`);
  }
  return result.ok ? EXIT.ok : EXIT.failed;
}

interface RecordVerdict {
  index: number;
  pass: boolean;
  site: string;
  cdm?: JsonValue;
  payload?: unknown;
  masked?: string[];
  reasons?: Reason[];
}

async function applyCommand(args: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(args, {
    bundle: { type: 'string' },
    pub: { type: 'string', multiple: true },
    site: { type: 'string' },
    entity: { type: 'string' },
    tls: { type: 'boolean' },
    'hash-key': { type: 'string' },
    'last-seen-version': { type: 'string' },
    json: { type: 'boolean' },
  });
  const [recordsFile = '-', ...extra] = positionals;
  if (extra.length > 0) throw new TectonicError('USAGE', 'give at most one RECORDS file');
  if (typeof values.bundle !== 'string') throw new TectonicError('USAGE', '--bundle SIGNED is required');
  const trustedKeys = await readTrustedKeys(values.pub, io);
  const lastSeenVersion = wholeNumber(values['last-seen-version'], '--last-seen-version');
  const envelope = typeof values.entity === 'string' ? entityEnvelope(values.entity) : undefined;
  const hashKey = typeof values['hash-key'] === 'string' ? values['hash-key'] : process.env[HASH_KEY_ENV];
  const siteOption = typeof values.site === 'string' ? values.site : undefined;
  const signed = await readText(values.bundle, io);
  const records = parseRecords(await readText(recordsFile, io), recordsFile);

  // One state per site, as each site's gate holds its own: site-scoped
  // rules differ. Each is offered the same signed bundle the gate would get.
  const states = new Map<string, PolicyState>();
  const stateFor = (site: string): PolicyState => {
    let state = states.get(site);
    if (!state) {
      state = new PolicyState({
        trustedKeys,
        now: () => new Date(),
        site,
        ...(hashKey !== undefined && hashKey !== '' ? { hashKey } : {}),
        ...(lastSeenVersion !== undefined ? { lastSeenVersion } : {}),
      });
      state.offer(signed);
      states.set(site, state);
    }
    return state;
  };

  const verdicts: RecordVerdict[] = records.map((record, index) => {
    const message = asMessage(record, envelope, values.tls === true);
    const cdmSite = readEnvelope(message)?.site;
    const site = siteOption ?? (typeof cdmSite === 'string' ? cdmSite : undefined);
    if (site === undefined) throw new TectonicError('USAGE', `record #${index + 1} has no cdm.site: give --site`);
    const verdict: PolicyVerdict = stateFor(site).evaluate(message);
    const out: RecordVerdict = { index, pass: verdict.pass, site };
    if (message.cdm !== undefined) out.cdm = message.cdm;
    if (verdict.payload !== undefined) out.payload = verdict.payload;
    if (verdict.annotations) out.masked = verdict.annotations.masked;
    if (!verdict.pass) out.reasons = verdict.reasons;
    return out;
  });
  const statuses = [...states.entries()].map(([site, state]) => ({ site, ...state.status() }));
  const ok = verdicts.every((v) => v.pass);

  if (values.json === true) {
    io.out(json({ ok, policy: statuses, records: verdicts }));
  } else {
    for (const s of statuses) io.out(`${describeStatus(s)}\n`);
    const hint = statuses.some((s) => s.state === 'fail-closed' && s.details.some((d) => /hash key/.test(d.message)));
    if (hint) io.err(`hint: give the site's hash key with --hash-key or ${HASH_KEY_ENV}\n`);
    for (const v of verdicts) {
      if (v.pass) io.out(`#${v.index + 1} pass${v.masked && v.masked.length > 0 ? `  masked: ${v.masked.join(', ')}` : ''}\n  ${JSON.stringify(v.payload)}\n`);
      else io.out(`#${v.index + 1} reject\n${(v.reasons ?? []).map((r) => formatReason(r)).join('\n')}\n`);
    }
    io.out(`${verdicts.filter((v) => v.pass).length} of ${verdicts.length} record(s) pass\n`);
  }
  return ok ? EXIT.ok : EXIT.failed;
}

function describeStatus(s: PolicyStatus & { site: string }): string {
  if (s.state === 'in-force') return `policy ${s.name} in force at ${s.site} (key ${s.keyId}, expires ${s.expiresAt})`;
  return `policy NOT in force at ${s.site}: [${s.reason.rule}] ${s.reason.message}; every record is rejected`;
}

/**
 * A record is a message when it is an object with a `payload` member and an
 * object `cdm` member (the shape a flow's msg has); anything else is a bare
 * payload, given the --entity envelope if there is one.
 */
function asMessage(record: JsonValue, envelope: JsonObject | undefined, tls: boolean): { payload: unknown; cdm: JsonValue | undefined; transport?: { tls: boolean } } {
  if (isObject(record) && 'payload' in record && readEnvelope(record) !== undefined) {
    const transport = isObject(record.transport) && typeof record.transport.tls === 'boolean' ? { tls: record.transport.tls } : tls ? { tls: true } : undefined;
    return { payload: record.payload, cdm: record.cdm, ...(transport ? { transport } : {}) };
  }
  return { payload: record, cdm: envelope, ...(tls ? { transport: { tls: true } } : {}) };
}

function entityEnvelope(text: string): JsonObject {
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) throw new TectonicError('USAGE', `--entity "${text}" is not ENTITY@VERSION`);
  return { entity: text.slice(0, at), version: text.slice(at + 1) };
}

export async function readTrustedKeys(pub: unknown, io: CliIo): Promise<string[]> {
  const files = Array.isArray(pub) ? pub.filter((p): p is string => typeof p === 'string') : typeof pub === 'string' ? [pub] : [];
  if (files.length === 0) throw new TectonicError('USAGE', '--pub PUB is required (a trusted public key; repeat it for several)');
  const keys: string[] = [];
  for (const file of files) {
    const pem = await readText(file, io);
    const loaded = loadPublicKey(pem);
    if (!loaded.ok) throw new TectonicError('USAGE', `${file} ${loaded.message}`);
    keys.push(pem);
  }
  return keys;
}

export function wholeNumber(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) throw new TectonicError('USAGE', `${flag} takes a whole number`);
  return Number(value);
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

function isObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
