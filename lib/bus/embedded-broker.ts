import net from 'node:net';
import type { Aedes } from 'aedes' with { 'resolution-mode': 'import' };
import { TectonicError } from '../errors';

export interface EmbeddedBrokerOptions {
  host: string;
  /** 0 picks a free port (tests); read the chosen one from `port`. */
  port: number;
}

export interface EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  connectedClients(): number;
  /** Stops listening, drops every client and closes aedes; resolves when the port is free. */
  close(): Promise<void>;
}

/**
 * aedes (MQTT 3.1.1) on a TCP port. The server sets TCP_NODELAY on every
 * accepted socket: aedes does not, and Nagle's algorithm against the client's
 * delayed ACKs adds 5 to 30 ms a hop at moderate rates.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  // aedes 1.x is an ES module; a dynamic import loads it from this CommonJS build.
  const aedes: Aedes = await (await import('aedes')).Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the port is already in use (another broker, or another tectonic-bus in embedded mode?)' : (err as Error).message;
    throw new TectonicError('BROKER_START_FAILED', `embedded broker cannot listen on ${options.host}:${options.port}: ${why}`, { cause: err });
  }

  const address = server.address() as net.AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    host: options.host,
    port: address.port,
    connectedClients: () => aedes.connectedClients,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }).then(() => new Promise<void>((resolve) => aedes.close(() => resolve())));
      return closing;
    },
  };
}
