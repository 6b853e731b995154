import { Duplex } from 'node:stream';
import { createPacketSizeGuard } from './packet-size-guard';

/**
 * A client's byte stream as aedes reads it, with every packet's announced
 * size checked first (lib/broker/packet-size-guard.ts): a packet over the
 * limit closes the connection before aedes' parser has buffered any of it.
 * Reads follow the socket's backpressure (the socket pauses while aedes has
 * not read), so at most a socket's high-water mark waits here.
 */
export function guardConnection(socket: Duplex, limits: { maxPacketBytes: number; maxConnectBytes: number }, onRefused: (why: string) => void): Duplex {
  const guard = createPacketSizeGuard(limits.maxPacketBytes, limits.maxConnectBytes);
  const guarded = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (socket.write(chunk)) callback();
      else socket.once('drain', () => callback());
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(err, callback) {
      socket.destroy();
      callback(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    const verdict = guard.feed(chunk);
    if (!verdict.ok) {
      onRefused(verdict.why);
      socket.destroy();
      guarded.destroy();
      return;
    }
    if (!guarded.push(chunk)) socket.pause();
  });
  socket.once('end', () => guarded.push(null));
  socket.once('error', (err) => guarded.destroy(err));
  socket.once('close', () => {
    if (!guarded.destroyed) guarded.destroy();
  });
  return guarded;
}
