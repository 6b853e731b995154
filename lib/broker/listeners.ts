import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { TectonicError } from '../errors';
import type { ListenerConfig, TlsFiles } from './broker-config';
import { guardConnection } from './guarded-connection';
import { certificateNames } from './peer-certificate';

export interface ListenerContext {
  /** aedes.handle */
  handle(stream: Duplex): void;
  /** Why a new connection is refused (connection limits), or undefined to admit it (and count it until it closes). */
  admit(socket: net.Socket): string | undefined;
  maxPacketBytes: number;
  maxConnectBytes: number;
  /** Where the certificate names of each handled stream are kept, for authentication. */
  peers: WeakMap<object, { certificateNames: readonly string[] }>;
  log(line: string): void;
  /** How errors name the broker: 'embedded broker' in Node-RED, 'broker' standalone. */
  label: string;
}

export interface OpenListener {
  readonly kind: 'mqtt' | 'mqtts' | 'ws' | 'wss';
  readonly host: string;
  readonly port: number;
  /** Stops listening and drops this listener's connections. */
  close(): Promise<void>;
}

function secureContextOptions(files: TlsFiles): tls.SecureContextOptions {
  return { cert: readFileSync(files.cert), key: readFileSync(files.key), ...(files.ca === undefined ? {} : { ca: readFileSync(files.ca) }) };
}

/**
 * One listener of the broker: plain MQTT, MQTT over TLS, or either over
 * WebSocket. Every connection is counted against the limits, its packets'
 * sizes are checked before aedes buffers them, and with TLS the certificate
 * files are read again when they change (a renewed certificate applies to
 * new connections without a restart: `setSecureContext`).
 */
export async function openListener(config: ListenerConfig, context: ListenerContext): Promise<OpenListener> {
  const sockets = new Set<net.Socket>();
  const accept = (socket: net.Socket, stream: Duplex, peer?: tls.TLSSocket): void => {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const refused = context.admit(socket);
    if (refused !== undefined) {
      context.log(`refused connection from ${remote}: ${refused}`);
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const guarded = guardConnection(stream, context, (why) => context.log(`refused packet from ${remote}: ${why}`));
    if (peer !== undefined) context.peers.set(guarded, { certificateNames: certificateNames(peer) });
    context.handle(guarded);
  };

  const tlsFiles = config.tls;
  let secure: tls.SecureContextOptions & tls.TlsOptions = {};
  if (tlsFiles !== undefined) {
    try {
      secure = {
        ...secureContextOptions(tlsFiles),
        requestCert: tlsFiles.clientCerts !== 'none',
        rejectUnauthorized: tlsFiles.clientCerts === 'required',
      };
    } catch (err) {
      throw new TectonicError('BROKER_START_FAILED', `${context.label} cannot read its TLS files: ${(err as Error).message}`, { cause: err });
    }
  }

  let server: net.Server;
  let kind: OpenListener['kind'];
  if (config.websocket === undefined) {
    kind = tlsFiles === undefined ? 'mqtt' : 'mqtts';
    server =
      tlsFiles === undefined
        ? net.createServer({ noDelay: true }, (socket) => accept(socket, socket))
        : tls.createServer({ ...secure, noDelay: true }, (socket) => accept(socket, socket, socket));
  } else {
    kind = tlsFiles === undefined ? 'ws' : 'wss';
    const web = tlsFiles === undefined ? http.createServer() : https.createServer(secure);
    const wss = new WebSocketServer({ server: web, path: config.websocket.path, maxPayload: context.maxPacketBytes + 5 });
    wss.on('connection', (ws, request) => {
      const socket = request.socket;
      accept(socket, createWebSocketStream(ws), tlsFiles === undefined ? undefined : (socket as tls.TLSSocket));
    });
    server = web;
  }
  // A TLS handshake that fails (no or an untrusted client certificate) is logged as a refusal.
  server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => context.log(`refused TLS connection from ${socket.remoteAddress ?? '?'}: ${err.message}`));

  const watched: string[] = [];
  if (tlsFiles !== undefined) {
    const reload = (): void => {
      try {
        (server as tls.Server).setSecureContext(secureContextOptions(tlsFiles));
        context.log(`TLS certificate files on ${config.host}:${config.port} reloaded`);
      } catch (err) {
        context.log(`TLS certificate files on ${config.host}:${config.port} not reloaded, the previous ones stay: ${(err as Error).message}`);
      }
    };
    // Polling rather than fs.watch: a renewal that replaces the file (rename) keeps being seen.
    for (const file of [tlsFiles.cert, tlsFiles.key, tlsFiles.ca].filter((f): f is string => f !== undefined)) {
      watchFile(file, { interval: 1000, persistent: false }, (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) reload();
      });
      watched.push(file);
    }
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    for (const file of watched) unwatchFile(file);
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the port is already in use (another broker, or another tectonic-bus in embedded mode?)' : (err as Error).message;
    throw new TectonicError('BROKER_START_FAILED', `${context.label} cannot listen on ${config.host}:${config.port}: ${why}`, { cause: err });
  }
  const address = server.address() as net.AddressInfo;
  return {
    kind,
    host: config.host,
    port: address.port,
    close() {
      for (const file of watched) unwatchFile(file);
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        (server as http.Server).closeAllConnections?.();
      });
    },
  };
}
