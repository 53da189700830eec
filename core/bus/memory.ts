import type { Logger } from '../log.js';
import type { StoredMessage } from '../message.js';
import { EVERY_USER_TOPIC, HEARTBEAT_TOPIC, userTopic, type Bus, type BusEvent, type BusPublisher, type BusSubscriber, type Heartbeat } from './bus.js';

/** Each topic's subscribers (see MemoryBus.topics). */
type Topics = Map<string, readonly MemorySubscriber[]>;

/**
 * The bus inside one process (`npm start`): a published message reaches each subscriber of its
 * topic synchronously, as the very object the api stored (the gateway serialises it once for
 * all its sockets), in publish order, with nothing to lose on the way. Topics match exactly
 * (a user's, the heartbeats'), but for `EVERY_USER_TOPIC`, which gets every user's messages as
 * ZeroMQ's prefix match would.
 */
export class MemoryBus implements Bus {
  readonly kind = 'memory';
  /**
   * Each topic's subscribers, replaced rather than changed (a delivery in progress keeps the list
   * it started with). Arrays, not sets: a user's topic has one subscriber in `npm start`, and a set
   * per user cost ~100 bytes more of every connected user's memory.
   */
  private readonly topics: Topics = new Map();

  constructor(private readonly log: Logger) {}

  publisher(): BusPublisher {
    return {
      publishMessage: (message: StoredMessage) => {
        const event: BusEvent = { topic: 'user', message };
        this.deliver(EVERY_USER_TOPIC, event);
        this.deliver(userTopic(message.userId), event);
      },
      publishHeartbeat: (heartbeat: Heartbeat) => this.deliver(HEARTBEAT_TOPIC, { topic: 'heartbeat', heartbeat }),
      close: () => {},
    };
  }

  subscriber(): BusSubscriber {
    return new MemorySubscriber(this.topics);
  }

  private deliver(topic: string, event: BusEvent): void {
    const subscribers = this.topics.get(topic);
    if (!subscribers) return;
    for (const subscriber of subscribers) {
      // A subscriber's failure stays its own: the publisher (and the other subscribers) go on.
      try {
        subscriber.receive(event);
      } catch (error) {
        this.log.error({ err: error }, 'a bus subscriber failed on an event');
      }
    }
  }
}

class MemorySubscriber implements BusSubscriber {
  /** How many times each topic is subscribed (a subscription is counted, as in ZeroMQ). */
  private readonly counts = new Map<string, number>();
  private handle: ((event: BusEvent) => void) | null = null;
  private stopped: (() => void) | null = null;
  private closed = false;
  onReconnect: () => void = () => {};
  onDisconnect: () => void = () => {};
  readonly connected = true;
  readonly filtersByUser = false;

  constructor(private readonly topics: Topics) {}

  subscribe(topic: string): void {
    if (this.closed) return;
    const count = this.counts.get(topic) ?? 0;
    this.counts.set(topic, count + 1);
    if (count > 0) return;
    const others = this.topics.get(topic);
    // A literal of one: an array grown by push keeps room for 16 (~150 bytes for each user's topic).
    this.topics.set(topic, others ? [...others, this] : [this]);
  }

  unsubscribe(topic: string): void {
    const count = this.counts.get(topic);
    if (count === undefined) return;
    if (count > 1) return void this.counts.set(topic, count - 1);
    this.counts.delete(topic);
    this.leave(topic);
  }

  private leave(topic: string): void {
    const others = (this.topics.get(topic) ?? []).filter((subscriber) => subscriber !== this);
    if (others.length > 0) this.topics.set(topic, others);
    else this.topics.delete(topic);
  }

  receive(event: BusEvent): void {
    this.handle?.(event);
  }

  run(handle: (event: BusEvent) => void): Promise<void> {
    this.handle = handle;
    return new Promise((resolve) => {
      this.stopped = resolve;
      if (this.closed) resolve();
    });
  }

  close(): void {
    this.closed = true;
    for (const topic of this.counts.keys()) this.leave(topic);
    this.counts.clear();
    this.handle = null;
    this.stopped?.();
  }
}
