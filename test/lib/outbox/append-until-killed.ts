// Child process for the SIGKILL test of the durable outbox: appends messages
// with a few in flight at a time and prints each acknowledged seq on its own
// line the moment append() resolves. The parent kills it mid-stream; every seq
// printed must be in the outbox when it is opened again. Pipes to the parent
// are written synchronously on Linux, so a printed line left this process.
import { DurableOutbox } from '../../../lib/outbox/durable-outbox';

const MAX_MESSAGES = 200_000;
const MAX_MS = 30_000;
const IN_FLIGHT = 32;

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: append-until-killed.ts <dir>');
  const outbox = await DurableOutbox.open({ dir, maxCount: MAX_MESSAGES, maxBytes: 1 << 30, whenFull: 'reject', commitIntervalMs: 1 });
  process.stdout.write('ready\n');
  const deadline = Date.now() + MAX_MS;
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < MAX_MESSAGES && Date.now() < deadline) {
      const n = issued;
      issued += 1;
      const result = await outbox.append({ topic: `t/${n}`, payload: Buffer.from(`message ${n}`), qos: 1, key: 'site-a' });
      if (!result.ok) throw new Error(result.reason.message);
      process.stdout.write(`${result.seq} ${n}\n`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, () => worker()));
  await outbox.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
