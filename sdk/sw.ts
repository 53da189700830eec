/**
 * The Web Push service worker: shows each push as a notification and, on click, focuses or
 * opens the message's `actionUrl`. Served by the api at `/sdk/sw.js`.
 *
 * The DOM and WebWorker type libraries cannot share one program, so the few worker types used
 * here are declared locally.
 */
interface PushPayload {
  title?: string;
  body?: string;
  iconUrl?: string;
  actionUrl?: string;
  key?: string;
  queue?: string;
}
interface WorkerScope {
  registration: { showNotification(title: string, options: Record<string, unknown>): Promise<void> };
  clients: { matchAll(options: Record<string, unknown>): Promise<{ url: string; focus(): Promise<unknown> }[]>; openWindow(url: string): Promise<unknown> };
  addEventListener(type: 'push', listener: (event: { data: { json(): unknown } | null; waitUntil(p: Promise<unknown>): void }) => void): void;
  addEventListener(type: 'notificationclick', listener: (event: { notification: { data: PushPayload | null; close(): void }; waitUntil(p: Promise<unknown>): void }) => void): void;
}

const scope = self as unknown as WorkerScope;

/** Pushwire's pushes carry the message fields and its envelope (key, queue) as flat JSON. */
function payloadOf(data: { json(): unknown } | null): PushPayload {
  try {
    return (data?.json() ?? {}) as PushPayload;
  } catch {
    return {};
  }
}

scope.addEventListener('push', (event) => {
  const payload = payloadOf(event.data);
  event.waitUntil(scope.registration.showNotification(payload.title ?? 'New message', {
    body: payload.body, icon: payload.iconUrl, tag: payload.key, data: payload,
  }));
});

scope.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = event.notification.data?.actionUrl;
  if (!url) return;
  event.waitUntil(scope.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
    const open = windows.find((window) => window.url === url);
    return open ? open.focus() : scope.clients.openWindow(url);
  }));
});
