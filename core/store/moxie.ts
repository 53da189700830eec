export interface MoxieFollowup {
  id: number;
  message: string;
  timestamp: Date;
}

export interface MoxieNotification {
  uuid: string;
  message: string;
  timestamp: Date;
  expires: Date;
  url: string | null;
  label: string | null;
  followups: MoxieFollowup[];
}

export type MoxieFields = Partial<Pick<MoxieNotification, 'message' | 'timestamp' | 'expires' | 'url' | 'label'>>;

/** Moxie's notifications with their follow-ups. */
export interface MoxieStore {
  create(notification: Omit<MoxieNotification, 'followups'>): Promise<void>;
  get(uuid: string): Promise<MoxieNotification | null>;
  /** Newest first; only the ongoing ones (started, and not expired: timestamp <= now <= expires, as Moxie) unless `history`. */
  list(history: boolean, now: Date): Promise<MoxieNotification[]>;
  update(uuid: string, fields: MoxieFields): Promise<boolean>;
  remove(uuid: string): Promise<boolean>;
  /** The new follow-up's id (1, 2, ... per notification); null when the notification does not exist. */
  addFollowup(uuid: string, message: string, timestamp: Date): Promise<number | null>;
  updateFollowup(uuid: string, id: number, fields: { message?: string; timestamp?: Date }): Promise<boolean>;
  removeFollowup(uuid: string, id: number): Promise<boolean>;
}
