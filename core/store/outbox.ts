import type { StoredMessage } from '../message.js';
import type { Device } from './devices.js';

export interface PushJob {
  id: number;
  /** 1 on the first try. */
  attempt: number;
  device: Device;
  /** Null when the message is gone (expired, pruned, queue deleted). */
  message: (StoredMessage & { expiresMicros: number }) | null;
}

/** What became of one push. `retry` keeps it pending until `retryAtMicros`. */
export interface PushOutcome {
  jobId: number;
  deviceId: number;
  kind: 'sent' | 'retry' | 'dead' | 'failed' | 'expired';
  reason?: string;
  statusCode?: number;
  /** The body or title was shortened to fit the platform's payload limit. */
  trimmed?: boolean;
  /** The provider's new id for this device (GCM canonical id). */
  canonicalToken?: string;
  retryAtMicros?: number;
}

/** What presence says about the users of due checks. */
export interface Reach {
  /** How far each user acknowledged (0 or absent: nothing). */
  acked: Map<number, number>;
  /** Users with a live socket now. */
  online: Set<number>;
}

export interface PushRecord {
  deviceId: number;
  platform: string;
  status: 'pending' | 'sent' | 'failed' | 'expired';
  attempts: number;
  result: Record<string, unknown> | null;
  updatedAt: string;
}

/**
 * The durable outbox between a published message and the providers. A message to a user with
 * devices leaves a check (in the transaction that stores it); when due, a check becomes one job
 * per live device unless the user acknowledged the message; workers claim jobs with SKIP LOCKED
 * under a lease, so a crashed worker's jobs are sent again, never lost.
 */
export interface PushOutbox {
  /**
   * Decides the due checks: a message the user acknowledged is dropped; one to a user who is
   * connected waits until `ackTimeoutMicros` after it was stored; the rest become one job per
   * live device. Returns jobs created.
   */
  expandDue(nowMicros: number, limit: number, ackTimeoutMicros: number, reach: (userIds: number[]) => Promise<Reach>): Promise<number>;
  /** Whether a check or a job is due: most of a worker's rounds find nothing, and then cost this one query. */
  anyDue(nowMicros: number): Promise<boolean>;
  /** Claims due jobs for `leaseMicros`. */
  claim(nowMicros: number, limit: number, leaseMicros: number): Promise<PushJob[]>;
  record(outcomes: readonly PushOutcome[], nowMicros: number): Promise<void>;
  /** Every push of one message, for the publisher's or the user's inspection. */
  results(userId: number, seq: number): Promise<PushRecord[]>;
  /** Pending checks plus pending jobs: the monitor's outbox depth. */
  depth(): Promise<number>;
}
