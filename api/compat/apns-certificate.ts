import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { PushwireError } from '../../core/errors.js';
import type { ApnsCredentials } from '../../core/store/applications.js';

/** Apple push certificates name the app's bundle id as the subject's UID (else its CN): the APNS topic. */
function topicOf(der: Buffer | undefined): string | null {
  if (!der) return null;
  const subject = new X509Certificate(der).subject;
  return /(?:^|\n)UID=([^\n]+)/.exec(subject)?.[1] ?? /(?:^|\n)CN=([^\n]+)/.exec(subject)?.[1] ?? null;
}

/** The certificate a secure context loaded (DER); Node keeps it on the native context. */
const loadedCertificate = (context: ReturnType<typeof createSecureContext>): Buffer | undefined =>
  (context.context as { getCertificate?: () => Buffer | null }).getCertificate?.() ?? undefined;

/**
 * Checks an uploaded APNS certificate by loading it as TLS would, and derives the topic from it.
 * P12 comes as bytes; PEM must hold the certificate and its key.
 */
export function apnsCertificate(input: { p12?: Buffer; pem?: string; passphrase?: string; topic?: string; production: boolean }): ApnsCredentials {
  let der: Buffer | undefined;
  let cert: ApnsCredentials['cert'];
  if (input.p12) {
    try {
      der = loadedCertificate(createSecureContext({ pfx: input.p12, passphrase: input.passphrase }));
    } catch {
      throw new PushwireError('invalid_apns_p12');
    }
    cert = { p12: input.p12.toString('base64'), passphrase: input.passphrase };
  } else if (input.pem) {
    try {
      der = loadedCertificate(createSecureContext({ cert: input.pem, key: input.pem, passphrase: input.passphrase }));
    } catch {
      throw new PushwireError('invalid_apns_pem');
    }
    cert = { pem: input.pem, passphrase: input.passphrase };
  } else throw new PushwireError('missing_apns_certificate');
  const topic = input.topic ?? topicOf(der);
  if (!topic) throw new PushwireError('invalid_field', 'apns_topic is required: the certificate does not name the app.');
  return { cert, topic, production: input.production };
}
