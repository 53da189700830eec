/** The HTTP API calls a client needs, with the API's `{error, message}` bodies turned into PushwireError. */
export interface Envelope {
  key: string;
  timestamp: string;
  queue: string;
  body: Record<string, unknown>;
}

export class PushwireError extends Error {
  constructor(readonly code: string, message: string, readonly status?: number) {
    super(message);
    this.name = 'PushwireError';
  }
}

export type Fetch = typeof fetch;

/** The global fetch, looked up at call time (so a page or test that replaces it is honoured). */
export const defaultFetch: Fetch = (...args) => globalThis.fetch(...args);

export async function call<T>(fetcher: Fetch, url: string, init: { method?: string; token?: string; json?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.token) headers['x-auth-token'] = init.token;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetcher(url, { method: init.method ?? 'GET', headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
  } catch (error) {
    throw new PushwireError('network_error', `${url}: ${(error as Error).message}`);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (a proxy's error page, say): reported below by status.
  }
  if (!response.ok) {
    const error = body as { error?: string; message?: string } | null;
    throw new PushwireError(error?.error ?? 'http_error', error?.message ?? `${response.status} from ${url}`, response.status);
  }
  return body as T;
}

/** A new user: its token and its own queue URL. */
export function createToken(api: string, fetcher: Fetch = defaultFetch): Promise<{ token: string; queue: string }> {
  return call(fetcher, new URL('/token/', api).href, { method: 'POST' });
}
