import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:net';
import type { Pki } from './pki.js';

/** Listens on a free loopback port and returns it. */
export async function listenLocal(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** An HTTPS service on loopback with the test CA's server certificate; subclasses answer whole requests. */
export abstract class LocalHttpsService {
  port = 0;
  private readonly server: https.Server;

  constructor(pki: Pki) {
    this.server = https.createServer({ key: pki.serverKeyPem, cert: pki.serverCertPem }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => this.handle(request, response, Buffer.concat(chunks)));
    });
  }

  protected abstract handle(request: IncomingMessage, response: ServerResponse, body: Buffer): void;

  async start(): Promise<this> {
    this.port = await listenLocal(this.server);
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
