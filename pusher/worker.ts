import type { Logger } from '../core/log.js';
import { metrics } from '../core/metrics.js';
import { encodeKey, formatTimestamp } from '../core/ids.js';
import { queueUrl } from '../core/message.js';
import type { Presence } from '../core/presence/presence.js';
import type { PushJob, PushOutbox, PushOutcome } from '../core/store/outbox.js';
import type { ProviderRegistry } from '../providers/registry.js';
import { inPool, type Delivery, type Notification } from '../providers/types.js';

export interface WorkerOptions {
  publicUrl: string;
  pollMs: number;
  batch: number;
  leaseMs: number;
  maxBackoffMs: number;
  /** A connected user's message is pushed only if still unacknowledged this long after it was stored. */
  ackTimeoutMs: number;
}

const BASE_BACKOFF_MS = 1000;
const GROUPS_IN_FLIGHT = 8;

/** Exponential backoff with full jitter, at least the provider's Retry-After. */
export function retryDelayMs(attempt: number, maxBackoffMs: number, retryAfterMs = 0, random = Math.random): number {
  const ceiling = Math.min(maxBackoffMs, BASE_BACKOFF_MS * 2 ** Math.min(attempt - 1, 30));
  return Math.max(retryAfterMs, Math.round(random() * ceiling), 100);
}

function toNotification(job: PushJob, publicUrl: string): Notification {
  const message = job.message!;
  const body = message.body as { title: string; body?: string; actionUrl?: string; iconUrl?: string; priority?: 'high' | 'normal' };
  const key = encodeKey(message.userId, message.seq);
  return {
    title: body.title,
    body: body.body,
    actionUrl: body.actionUrl,
    iconUrl: body.iconUrl,
    collapseId: message.replaceId ?? key,
    envelope: { key, queue: queueUrl(publicUrl, message.queue), timestamp: formatTimestamp(message.micros) },
    expiresAt: message.expiresMicros / 1e6,
    priority: body.priority ?? 'high',
  };
}

/**
 * The push worker: turns due checks into jobs (skipping what the user acknowledged live, and
 * giving a connected user the ack timeout first),
 * claims jobs under a lease, sends them grouped by (application, platform, message) so each
 * provider can batch, and records every outcome. Retries back off until the message expires.
 */
export class PushWorker {
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  sent = 0;

  constructor(
    private readonly outbox: PushOutbox,
    private readonly presence: Pick<Presence, 'ackedMany' | 'online'>,
    private readonly providers: ProviderRegistry,
    private readonly options: WorkerOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let busy = false;
      try {
        busy = await this.tick();
      } catch (error) {
        this.log.error({ err: error }, 'push round failed; retrying');
      }
      if (!busy && this.running) await new Promise((resolve) => setTimeout(resolve, this.options.pollMs));
    }
  }

  /** One round; true when there may be more to do right away. */
  async tick(): Promise<boolean> {
    const now = Date.now() * 1000;
    if (!(await this.outbox.anyDue(now))) return false;
    await this.outbox.expandDue(now, this.options.batch, this.options.ackTimeoutMs * 1000, async (userIds) => {
      const [acked, online] = await Promise.all([this.presence.ackedMany(userIds), this.presence.online(userIds)]);
      return { acked, online };
    });
    const jobs = await this.outbox.claim(now, this.options.batch, this.options.leaseMs * 1000);
    if (jobs.length === 0) return false;
    const outcomes: PushOutcome[] = [];
    const groups = new Map<string, PushJob[]>();
    for (const job of jobs) {
      if (!job.message || job.message.expiresMicros <= now) {
        outcomes.push({ jobId: job.id, deviceId: job.device.id, kind: 'expired', reason: job.message ? 'message expired' : 'message no longer stored' });
        continue;
      }
      const key = `${job.device.app}\u0000${job.device.platform}\u0000${job.message.userId}:${job.message.seq}`;
      groups.set(key, [...(groups.get(key) ?? []), job]);
    }
    await inPool([...groups.values()], GROUPS_IN_FLIGHT, async (group) => {
      const { app, platform } = group[0].device;
      const provider = await this.providers.provider(app, platform);
      if (!provider) {
        for (const job of group) outcomes.push({ jobId: job.id, deviceId: job.device.id, kind: 'failed', reason: `application "${app}" has no ${platform} credentials` });
        return;
      }
      const attemptOf = new Map(group.map((job) => [job.id, job]));
      const deliveries = await provider.send(toNotification(group[0], this.options.publicUrl),
        group.map((job) => ({ jobId: job.id, deviceId: job.device.id, token: job.device.token, keys: job.device.keys })));
      for (const delivery of deliveries) outcomes.push(this.outcome(delivery, attemptOf.get(delivery.jobId)!, now));
    });
    await this.outbox.record(outcomes, Date.now() * 1000);
    const platformOf = new Map(jobs.map((job) => [job.id, job.device.platform]));
    for (const outcome of outcomes) metrics.pushSends.inc({ platform: platformOf.get(outcome.jobId), result: outcome.kind });
    this.sent += outcomes.filter((outcome) => outcome.kind === 'sent').length;
    return jobs.length === this.options.batch;
  }

  private outcome(delivery: Delivery, job: PushJob, now: number): PushOutcome {
    const { jobId, deviceId, kind, reason, statusCode, trimmed, canonicalToken } = delivery;
    const base = { jobId, deviceId, reason, statusCode, trimmed, canonicalToken };
    if (kind !== 'retry') return { ...base, kind };
    const retryAtMicros = now + retryDelayMs(job.attempt, this.options.maxBackoffMs, delivery.retryAfterMs) * 1000;
    if (retryAtMicros >= job.message!.expiresMicros) return { ...base, kind: 'expired', reason: `gave up: ${reason ?? 'transient failure'} until expiry` };
    return { ...base, kind: 'retry', retryAtMicros };
  }

  /** Finishes the round in progress, then stops. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
