// `tectonic broker --config FILE` as users run it, in a child process the
// test stops by its pid. It resolves once the broker printed a listening line
// for every listener, with the ports it got.
import { type ChildProcess, spawn } from 'node:child_process';
import { repoRoot, waitFor } from './node-red-process';

export interface BrokerCli {
  readonly pid: number;
  /** Each listener's `kind://host:port` as the broker printed it. */
  readonly urls: string[];
  output(): string;
  /** SIGTERM by pid, then SIGKILL after a bound; resolves once the process exited. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
});

export async function startBrokerCli(configFile: string, listeners: number): Promise<BrokerCli> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/tectonic.ts', 'broker', '--config', configFile], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const urls = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`tectonic broker exited with ${child.exitCode}:\n${output}`);
      const found = [...output.matchAll(/broker listening on (\S+) /g)].map((m) => m[1] as string);
      return found.length >= listeners ? found : undefined;
    },
    { timeoutMs: 20_000 },
  );
  return {
    pid: child.pid as number,
    urls,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid as number, 'SIGTERM');
        const killer = setTimeout(() => child.exitCode === null && process.kill(child.pid as number, 'SIGKILL'), 12_000);
        await exited;
        clearTimeout(killer);
      }
      live.delete(child);
    },
  };
}
