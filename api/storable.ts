import type { FastifyInstance } from 'fastify';
import { PushwireError } from '../core/errors.js';
import { unstorable } from '../core/storable.js';

/** Throws 400 invalid_field naming where `value` holds what the store cannot (see `unstorable`). */
export function requireStorable(value: unknown, where: string): void {
  const path = unstorable(value, where);
  if (path !== null) throw new PushwireError('invalid_field', `${path}: NUL characters, lone surrogates and non-finite numbers cannot be stored.`);
}

/**
 * Every route, after its schema ran (so coerced values are checked too): a request holding what
 * the store would refuse gets 400 invalid_field here, never a refused transaction that other
 * requests shared.
 */
export function refuseUnstorable(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    if ((request.routeOptions.config as { storableCheckedPerItem?: boolean }).storableCheckedPerItem) return;
    requireStorable(request.params, 'params');
    requireStorable(request.query, 'query');
    requireStorable(request.body, 'body');
  });
}
