import { ClassicLevel } from 'classic-level';
import { TectonicError } from '../errors';
import { type Reason, reason } from '../reasons';

/**
 * Opens LevelDB in `dir`. The write buffer (the log LevelDB keeps before it
 * writes a sorted table) is sized from maxBytes: at LevelDB's default 4 MiB a
 * small outbox would use many times its bound on disk. A database left
 * corrupt by a crash is repaired once (LevelDB's own recovery) and reported.
 */
export async function openDatabase(dir: string, maxBytes: number, report: (problem: Reason) => void): Promise<ClassicLevel<Buffer, Buffer>> {
  const writeBufferSize = Math.min(4 << 20, Math.max(64 << 10, Math.floor(maxBytes / 4)));
  const make = (): ClassicLevel<Buffer, Buffer> => new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', writeBufferSize });
  let db = make();
  try {
    await db.open();
    return db;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code !== 'LEVEL_CORRUPTION') throw openFailed(dir, err);
  }
  report(reason('outbox', 'outbox-repaired', `the outbox in ${dir} was corrupt and has been repaired; entries LevelDB could not read are lost`));
  try {
    await ClassicLevel.repair(dir);
    db = make();
    await db.open();
    return db;
  } catch (err) {
    throw openFailed(dir, err);
  }
}

function openFailed(dir: string, err: unknown): TectonicError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code === 'LEVEL_LOCKED' ? 'another outbox (another node or process) has it open' : (cause?.message ?? (err as Error).message);
  return new TectonicError('BAD_CONFIG', `the outbox cannot open ${dir}: ${why}`, { cause: err });
}
