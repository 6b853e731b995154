import mqtt from 'mqtt';
import { flowsFingerprint } from '../fleet/fingerprint';
import type { TemplateFingerprint } from '../fleet/heartbeat-format';
import { SITE_ID, templateTopic } from '../fleet/health-topics';
import { TectonicError } from '../errors';
import { parseCommandArgs, readJsonFile } from './cli-input';
import { EXIT } from './cli-types';
import type { CliCommand } from './cli-types';

/**
 * `tectonic template fingerprint`: the fingerprint a site running a vetted
 * template reports in its heartbeat (lib/fleet/fingerprint.ts), computed
 * from the template's flows file in the central team's CI, and optionally
 * published retained on `tectonic/templates/{name}` for the monitor.
 */
export const templateCommand: CliCommand = {
  name: 'template',
  summary: "a vetted flow template's fingerprint (what site heartbeats are compared with)",
  usage: `tectonic template fingerprint FLOWS.json [--name NAME --version VERSION] [--publish URL]
  prints the TemplateFingerprint JSON {"name","version","fingerprint"} (the fingerprint alone without --name and --version)
  --publish mqtt[s]://user:password@host:port: publish it retained (QoS 1) on tectonic/templates/{name}
  exit 0 done, 2 usage or input error (a file that is not a flows array, a broker that refuses)`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { name: { type: 'string' }, version: { type: 'string' }, publish: { type: 'string' } });
    if (positionals[0] !== 'fingerprint' || positionals.length !== 2) throw new TectonicError('USAGE', 'give "fingerprint" and one FLOWS.json');
    const flows = await readJsonFile(positionals[1] as string, io);
    if (!Array.isArray(flows)) throw new TectonicError('USAGE', `${positionals[1]} is not a Node-RED flows file (a JSON array of nodes)`);
    const fingerprint = flowsFingerprint(flows);
    const text$ = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    const [name, version, publish] = [text$(values.name), text$(values.version), text$(values.publish)];
    if ((name === undefined) !== (version === undefined)) throw new TectonicError('USAGE', '--name and --version go together');
    if (name === undefined || version === undefined) {
      if (publish !== undefined) throw new TectonicError('USAGE', '--publish needs --name and --version');
      io.out(`${fingerprint}\n`);
      return EXIT.ok;
    }
    if (!SITE_ID.test(name)) throw new TectonicError('USAGE', `--name "${name}" must be one topic level: letters, digits, ".", "_" or "-"`);
    const result: TemplateFingerprint = { name, version, fingerprint };
    const text = JSON.stringify(result);
    if (publish !== undefined) {
      try {
        const client = await mqtt.connectAsync(publish, { clientId: `tectonic-template-${process.pid}`, reconnectPeriod: 0, connectTimeout: 10_000 });
        await client.publishAsync(templateTopic(name), text, { qos: 1, retain: true });
        await client.endAsync();
      } catch (err) {
        throw new TectonicError('USAGE', `could not publish to ${publish.replace(/\/\/[^@/]*@/, '//***@')}: ${(err as Error).message}`);
      }
      io.err(`published retained on ${templateTopic(name)}\n`);
    }
    io.out(`${text}\n`);
    return EXIT.ok;
  },
};
