import { call, defaultFetch, PushwireError, type Fetch } from './http.js';

export interface WebPushOptions {
  api: string;
  token: string;
  /** URL of the service worker script; the api serves one at `/sdk/sw.js`. */
  serviceWorker?: string;
  fetch?: Fetch;
}

/**
 * Offline delivery for a page: registers the service worker, subscribes with the server's
 * VAPID key, and registers the subscription as a device of the token's user, so messages
 * published while no tab is connected arrive as notifications. Asks the user's permission.
 */
export async function enableWebPush(options: WebPushOptions): Promise<PushSubscription> {
  const fetcher = options.fetch ?? defaultFetch;
  if (!('serviceWorker' in navigator) || !('PushManager' in globalThis)) throw new PushwireError('unsupported', 'This browser has no Web Push.');
  if ((await Notification.requestPermission()) !== 'granted') throw new PushwireError('permission_denied', 'Notifications are not allowed.');
  const registration = await navigator.serviceWorker.register(options.serviceWorker ?? new URL('/sdk/sw.js', options.api).href);
  await navigator.serviceWorker.ready;
  const { publicKey } = await call<{ publicKey: string }>(fetcher, new URL('/devices/vapid-key', options.api).href);
  const subscription = (await registration.pushManager.getSubscription())
    ?? (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlBytes(publicKey) }));
  await call(fetcher, new URL('/devices/', options.api).href, { method: 'POST', token: options.token, json: { platform: 'webpush', subscription: subscription.toJSON() } });
  return subscription;
}

function base64UrlBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '='));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}
