import WebSocket from 'ws';

/**
 * A client that speaks only the original service's protocol, as its client.py did: form bodies,
 * the token as a query parameter or form field (never a header), `ws://` + the first of
 * `/nodes/`, the text frame `token: T`, and frames read as bare JSON envelopes.
 */
export class OriginalClient {
  token = '';
  /** The user's own queue URL (the original named it after the token). */
  own = '';
  readonly frames: Record<string, unknown>[] = [];
  private socket: WebSocket | null = null;
  closeCode: number | null = null;

  constructor(readonly api: string) {}

  async request(method: string, url: string, form?: Record<string, string>): Promise<{ status: number; text: string; json: Record<string, unknown> | null; headers: Headers }> {
    const response = await fetch(url.startsWith('http') ? url : `${this.api}${url}`, {
      method,
      ...(form ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() } : {}),
    });
    const text = await response.text();
    let json: Record<string, unknown> | null = null;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // The original answered some errors with plain pages; callers look at the status.
    }
    return { status: response.status, text, json, headers: response.headers };
  }

  async newToken(): Promise<void> {
    const { json } = await this.request('POST', '/token/');
    this.token = String(json!.token);
    this.own = String(json!.queue);
  }

  /** Opens the websocket to `node` and sends the token once it is open. */
  async listen(node: string): Promise<void> {
    const socket = new WebSocket(`ws://${node}`);
    this.socket = socket;
    socket.on('message', (data) => this.frames.push(JSON.parse(String(data)) as Record<string, unknown>));
    socket.on('close', (code) => {
      this.closeCode = code;
    });
    socket.on('error', () => {});
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    await new Promise<void>((resolve, reject) => socket.send(`token: ${this.token}`, (error) => (error ? reject(error) : resolve())));
  }

  send(text: string): void {
    this.socket!.send(text);
  }

  async waitForFrames(count: number, timeoutMs = 10_000): Promise<Record<string, unknown>[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} frames in ${timeoutMs} ms, got ${JSON.stringify(this.frames)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.frames;
  }

  close(): void {
    this.socket?.close();
  }
}
