import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The number of the site's connections to the bus, kept in a file so it
 * grows across restarts: Sparkplug's bdSeq idea, a new number for every
 * birth. Read once; `next` is the number the coming connection will take (its
 * will carries it), `commit` records it once that connection is made.
 */
export class SessionCounter {
  private last: number;

  constructor(private readonly file: string) {
    this.last = readCount(file);
  }

  get current(): number {
    return this.last;
  }

  get next(): number {
    return this.last + 1;
  }

  /** Makes `next` current, on disk first: a crash right after still never reuses the number. */
  commit(): number {
    const value = this.last + 1;
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.tmp`;
    const fd = openSync(temporary, 'w');
    try {
      writeSync(fd, `${value}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.file);
    this.last = value;
    return value;
  }
}

function readCount(file: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return 0;
  }
  // A file damaged by hand starts again from 0: the centre then sees a restart, which is what happened.
  return /^\d{1,15}$/.test(text) ? Number(text) : 0;
}
