import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import WebSocket from 'ws';

/**
 * A full garbage collection in another Node process, started with `--inspect=127.0.0.1:0`,
 * through its inspector (`HeapProfiler.collectGarbage`, which V8 runs as a low-memory
 * notification: it collects everything and gives freed pages back), in its main thread and in
 * each of its worker threads (each has a heap of its own: `npm start`'s store runs in one). Then
 * its RSS holds what it keeps, not how large V8 last sized its heaps, which moves tens of MiB
 * between runs of the same code. Resolves once every collection is done.
 */
export async function collectGarbage(pid: number): Promise<void> {
  for (const port of listeningPorts(pid)) {
    const targets = await fetch(`http://127.0.0.1:${port}/json/list`).then((response) => response.json() as Promise<{ webSocketDebuggerUrl: string }[]>).catch(() => null);
    if (!Array.isArray(targets) || targets.length === 0) continue;
    const session = await InspectorSession.open(targets[0].webSocketDebuggerUrl);
    try {
      const workers = await session.workers();
      await session.call('HeapProfiler.collectGarbage');
      for (const worker of workers) await session.callInWorker(worker, 'HeapProfiler.collectGarbage');
    } finally {
      session.close();
    }
    return;
  }
  throw new Error(`process ${pid} has no inspector listening (start it with --inspect=127.0.0.1:0)`);
}

interface InspectorMessage {
  id?: number;
  method?: string;
  params?: { sessionId?: string; message?: string; workerInfo?: unknown };
}

/** One inspector connection: commands to the main thread, and through `NodeWorker` to its workers. */
class InspectorSession {
  private nextId = 1;
  private readonly listeners = new Set<(message: InspectorMessage) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as InspectorMessage;
      for (const listener of this.listeners) listener(message);
    });
  }

  static async open(url: string): Promise<InspectorSession> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return new InspectorSession(socket);
  }

  /** The first message `match` accepts, from now on. */
  private next(match: (message: InspectorMessage) => boolean): Promise<InspectorMessage> {
    return new Promise((resolve) => {
      const listener = (message: InspectorMessage) => {
        if (!match(message)) return;
        this.listeners.delete(listener);
        resolve(message);
      };
      this.listeners.add(listener);
    });
  }

  async call(method: string, params: object = {}): Promise<void> {
    const id = this.nextId++;
    const answered = this.next((message) => message.id === id);
    this.socket.send(JSON.stringify({ id, method, params }));
    await answered;
  }

  /** The session ids of the process's worker threads, as the inspector attaches to each. */
  async workers(): Promise<string[]> {
    const attached: string[] = [];
    const listener = (message: InspectorMessage) => {
      if (message.method === 'NodeWorker.attachedToWorker') attached.push(message.params!.sessionId!);
    };
    this.listeners.add(listener);
    // The inspector reports the workers already running before it answers `enable`.
    await this.call('NodeWorker.enable', { waitForDebuggerOnStart: false });
    this.listeners.delete(listener);
    return attached;
  }

  async callInWorker(sessionId: string, method: string): Promise<void> {
    const id = this.nextId++;
    const answered = this.next((message) => message.method === 'NodeWorker.receivedMessageFromWorker' && message.params?.sessionId === sessionId
      && (JSON.parse(message.params.message!) as InspectorMessage).id === id);
    await this.call('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method }) });
    await answered;
  }

  close(): void {
    this.socket.close();
  }
}

/** The TCP ports process `pid` listens on, from /proc: its sockets' inodes, matched in the IPv4 table. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const target = (() => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return ''; // closed meanwhile
      }
    })();
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode) inodes.add(inode);
  }
  const LISTEN = '0A';
  return readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 9 && fields[3] === LISTEN && inodes.has(fields[9]))
    .map((fields) => parseInt(fields[1].split(':')[1], 16));
}
