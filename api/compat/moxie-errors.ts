import type { FastifyError, FastifyInstance } from 'fastify';
import { errorHeaders, typedError } from '../errors.js';

/**
 * Moxie's clients read an error's text from `description` (Moxie's `ApplicationException`):
 * within the Moxie prefix, every error answer carries it next to Pushwire's fields.
 */
export function installMoxieErrors(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const typed = typedError(error, request.log);
    void reply.headers(errorHeaders(typed)).status(typed.status).send({ ...typed.toJSON(), description: typed.message });
  });
}
