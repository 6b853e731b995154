// Runs the real `tectonic` command as users do, from the repository root, so
// CLI tests check exit codes and output of the actual entry point.
import { spawn } from 'node:child_process';
import { repoRoot } from './node-red-process';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `input` is what goes to standard input, or that and extra environment. */
export function tectonic(args: string[], input: string | { stdin?: string; env?: Record<string, string | undefined> } = {}): Promise<CliRun> {
  const options = typeof input === 'string' ? { stdin: input } : input;
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...options.env };
    // A hash key in the caller's environment would change what `policy apply` does.
    if (!options.env || !('TECTONIC_POLICY_HASH_KEY' in options.env)) delete env.TECTONIC_POLICY_HASH_KEY;
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/tectonic.ts', ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
