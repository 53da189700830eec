import { PushwireError, type ErrorCode } from '../../core/errors.js';
import type { ApnsCredentials } from '../../core/store/applications.js';
import { CertificateError, checkApnsCertificate, pemFromP12 } from '../../providers/apns-certificate.js';

/** Runs a certificate check; what makes it unusable becomes `code`'s error, naming the reason. */
function refusedAs<T>(code: ErrorCode, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof CertificateError)) throw error;
    throw new PushwireError(code, `${new PushwireError(code).message} (${error.message})`);
  }
}

/**
 * Reads an uploaded APNS certificate, refusing one that could not send: it must load, its key
 * must match, it must be current and marked for the chosen environment. A P12 is kept as PEM
 * (see pemFromP12); the topic comes from the certificate unless given.
 */
export function apnsCertificate(input: { p12?: Buffer; pem?: string; passphrase?: string; topic?: string; production: boolean }): ApnsCredentials {
  let cert: ApnsCredentials['cert'];
  let topic: string | null;
  if (input.p12) {
    const { p12 } = input;
    const read = refusedAs('invalid_apns_p12', () => pemFromP12(p12, input.passphrase));
    topic = refusedAs('invalid_apns_p12', () => checkApnsCertificate(read.cert, read.key, undefined, input.production));
    cert = { pem: read.cert, key: read.key };
  } else if (input.pem) {
    const { pem } = input;
    topic = refusedAs('invalid_apns_pem', () => checkApnsCertificate(pem, pem, input.passphrase, input.production));
    cert = { pem, passphrase: input.passphrase };
  } else throw new PushwireError('missing_apns_certificate');
  topic = input.topic ?? topic;
  if (!topic) throw new PushwireError('invalid_field', 'apns_topic is required: the certificate does not name the app.');
  return { cert, topic, production: input.production };
}
