import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric Pushwire exports, in one registry per process (embedded mode: one registry for
 * all roles). Each daemon serves it at GET /metrics. Node's defaults come along, among them
 * event-loop lag (nodejs_eventloop_lag_*) and memory.
 */
export const registry = new Registry();
// The event-loop delay histogram samples on a timer: every 10 ms by default, which woke each idle
// daemon 100 times a second (5 ms of CPU a second each, a third of circus.ini's idle CPU).
// Every 100 ms still records each stall (a sample waits for the loop), with a tenth the wake-ups.
collectDefaultMetrics({ register: registry, prefix: 'pushwire_', eventLoopMonitoringPrecision: 100 });

const registers = [registry];

/**
 * Frames of messages written to websockets, by path, counted in plain numbers where they are
 * written (once per socket per message: prom-client hashes a counter's labels on every inc) and
 * added to pushwire_messages_delivered_total when it is read.
 */
export const framesDelivered = { live: 0, catchup: 0, repair: 0 };

export const metrics = {
  connections: new Gauge({ name: 'pushwire_connections', help: 'Authenticated websocket connections on this gateway.', registers }),
  authFailures: new Counter({ name: 'pushwire_auth_failures_total', help: 'Websocket authentications refused, by reason.', labelNames: ['reason'], registers }),
  upgradesRefused: new Counter({ name: 'pushwire_upgrades_refused_total', help: 'Websocket upgrades refused per client address, by reason (connections, connects, auth_failures).', labelNames: ['reason'], registers }),
  published: new Counter({ name: 'pushwire_messages_published_total', help: 'Entries stored in user sequences, by kind.', labelNames: ['kind'], registers }),
  delivered: new Counter({
    name: 'pushwire_messages_delivered_total', help: 'Frames of messages written to websockets, by path (live, catchup, repair).', labelNames: ['path'], registers,
    collect() {
      for (const path of ['live', 'catchup', 'repair'] as const) {
        this.inc({ path }, framesDelivered[path]);
        framesDelivered[path] = 0;
      }
    },
  }),
  collapsed: new Counter({ name: 'pushwire_messages_collapsed_total', help: 'Messages a slow socket never got because a newer one with the same replaceId replaced them.', registers }),
  dropped: new Counter({ name: 'pushwire_sockets_dropped_total', help: 'Sockets closed by the server, by reason (slow consumer, store failure).', labelNames: ['reason'], registers }),
  catchupSize: new Histogram({ name: 'pushwire_catchup_messages', help: 'Messages sent per catch-up page.', buckets: [0, 1, 5, 10, 50, 100, 500, 1000], registers }),
  busLag: new Histogram({ name: 'pushwire_bus_lag_seconds', help: 'From commit to a gateway receiving the message on the bus.', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1], registers }),
  gapRepairs: new Counter({ name: 'pushwire_gap_repairs_total', help: 'Store reads a gateway made because the bus skipped a sequence number.', registers }),
  storeSeconds: new Histogram({ name: 'pushwire_store_seconds', help: 'Store operation latency, by operation.', labelNames: ['operation'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers }),
  pushSends: new Counter({ name: 'pushwire_push_sends_total', help: 'Push attempts, by platform and result (sent, retry, dead, failed, expired).', labelNames: ['platform', 'result'], registers }),
  outboxDepth: new Gauge({ name: 'pushwire_push_outbox_depth', help: 'Pushes waiting: due checks plus pending jobs.', registers }),
};

/** Times `work` into the store latency histogram. */
export async function timed<T>(operation: string, work: () => Promise<T>): Promise<T> {
  const stop = metrics.storeSeconds.startTimer({ operation });
  try {
    return await work();
  } finally {
    stop();
  }
}
