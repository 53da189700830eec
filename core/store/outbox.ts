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
  /** Turns due checks into jobs; `acked` says how far each user acknowledged. Returns jobs created. */
  expandDue(nowMicros: number, limit: number, acked: (userIds: number[]) => Promise<Map<number, number>>): Promise<number>;
  /** Claims due jobs for `leaseMicros`. */
  claim(nowMicros: number, limit: number, leaseMicros: number): Promise<PushJob[]>;
  record(outcomes: readonly PushOutcome[], nowMicros: number): Promise<void>;
  /** Every push of one message, for the publisher's or the user's inspection. */
  results(userId: number, seq: number): Promise<PushRecord[]>;
  /** Pending checks plus pending jobs: the monitor's outbox depth. */
  depth(): Promise<number>;
}
