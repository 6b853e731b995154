/** What a command needs from the process, so tests can run commands in-process too. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Relative paths in arguments are resolved against this. */
  cwd: string;
  /** Standard input, read only when a command is given `-` as a file. */
  readStdin(): Promise<string>;
  /** At a terminal: asks one question and reads the answer line (undefined at end of input). Absent when standard input is not a terminal. */
  ask?(question: string): Promise<string | undefined>;
}

/** DESIGN.md "The command line": the exit statuses every command shares. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CliIo): Promise<ExitCode>;
}

