import type { MoxieFollowup, MoxieNotification } from '../../core/store/moxie.js';
import { integer, object, string } from '../schemas.js';

/** Moxie's date format, YYYY-mm-DDTHH:mm:ss, written as UTC. */
export const formatDate = (date: Date) => date.toISOString().slice(0, 19);

/** How an answer is written: HAL+JSON (what moxie-js-client reads), or the seed's plain JSON, which carries the HAL members too. */
export type Representation = 'hal' | 'plain';

const link = (href: string) => ({ self: { href } });

/**
 * Moxie's HAL follow-up (moxie_notifications/representations.py): no id of its own, its link
 * names it. The plain form adds the seed's `id`.
 */
export function followupView(prefix: string, uuid: string, followup: MoxieFollowup, as: Representation) {
  return {
    ...(as === 'plain' ? { id: followup.id } : {}),
    message: followup.message, timestamp: formatDate(followup.timestamp),
    _links: link(`${prefix}/${uuid}/followup/${followup.id}`),
  };
}

/**
 * A notification. HAL: `ident`, `_links`, and `_embedded.followups` only when there are some
 * (moxie-js-client counts updates by its presence). Plain: the seed's `uuid` and `followups`
 * (always) besides.
 */
export function notificationView(prefix: string, n: MoxieNotification, as: Representation) {
  const followups = n.followups.map((f) => followupView(prefix, n.uuid, f, as));
  return {
    ...(as === 'plain' ? { uuid: n.uuid } : {}),
    ident: n.uuid, message: n.message, timestamp: formatDate(n.timestamp), expires: formatDate(n.expires),
    ...(n.url !== null ? { url: n.url } : {}), ...(n.label !== null ? { label: n.label } : {}),
    ...(as === 'plain' ? { followups } : {}),
    _links: link(`${prefix}/${n.uuid}`),
    ...(followups.length > 0 ? { _embedded: { followups } } : {}),
  };
}

/** The list: HAL's `_embedded.notifications` (always, [] when none); plain adds the seed's `notifications`. */
export function listView(prefix: string, notifications: MoxieNotification[], as: Representation) {
  const views = notifications.map((n) => notificationView(prefix, n, as));
  return { ...(as === 'plain' ? { notifications: views } : {}), _embedded: { notifications: views }, _links: link(`${prefix}/`) };
}

const links = object({ self: object({ href: string }) });
const followupSchema = {
  type: 'object', required: ['message', 'timestamp', '_links'],
  properties: { id: { ...integer, description: 'Plain JSON only.' }, message: string, timestamp: string, _links: links },
} as const;
const notificationSchema = {
  type: 'object', required: ['ident', 'message', 'timestamp', 'expires', '_links'],
  properties: {
    uuid: { ...string, description: 'Plain JSON only (the seed\'s name for `ident`).' }, ident: string, message: string, timestamp: string, expires: string, url: string, label: string,
    followups: { type: 'array', items: followupSchema, description: 'Plain JSON only; HAL has `_embedded.followups` (left out when empty).' },
    _links: links, _embedded: object({ followups: { type: 'array', items: followupSchema } }),
  },
} as const;

/** The answers, for the OpenAPI document: both representations in one schema (plain JSON is HAL plus the seed's members). */
export const moxieSchemas = {
  followup: followupSchema,
  notification: notificationSchema,
  list: {
    type: 'object', required: ['_embedded', '_links'],
    properties: { notifications: { type: 'array', items: notificationSchema, description: 'Plain JSON only.' }, _embedded: object({ notifications: { type: 'array', items: notificationSchema } }), _links: links },
  },
} as const;
