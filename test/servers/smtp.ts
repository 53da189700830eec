import { SMTPServer } from 'smtp-server';
import { listenLocal } from './listen.js';

export interface Mail {
  from: string;
  to: string[];
  raw: string;
}

/** A local SMTP server that keeps what it receives (no auth, no TLS: development mail). */
export class LocalSmtp {
  readonly mails: Mail[] = [];
  port = 0;
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        this.mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString(),
        });
        callback();
      });
    },
  });

  async start(): Promise<this> {
    this.port = await listenLocal(this.server.server);
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
