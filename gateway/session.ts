import type { Activity } from '../core/activity.js';
import type { Config } from '../core/config.js';
import { PushwireError } from '../core/errors.js';
import { encodeKey, parseSince, type Since } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { metrics } from '../core/metrics.js';
import type { Presence } from '../core/presence/presence.js';
import { CloseCode, PUSHWIRE_SUBPROTOCOL, type AuthFrame, type ClientFrame, type Dialect, type ReconnectFrame } from '../sdk/wire.js';
import type { Admission } from './admission.js';
import type { BatchedStore } from './batched-store.js';
import { Connection } from './connection.js';
import type { Hub } from './hub.js';
import { errorFrame, readClientFrame, type IncomingFrame } from './protocol.js';
import type { ClientSocket, Upgrade } from './transport/transport.js';

/** What every session of a gateway shares. */
export interface SessionContext {
  gatewayId: string;
  config: Pick<Config, 'authTimeoutMs' | 'defaultLimit' | 'maxLimit'>;
  store: BatchedStore;
  presence: Pick<Presence, 'acked'>;
  hub: Hub;
  admission: Admission;
  activity: Activity;
  log: Logger;
}

/**
 * Where a client socket is. Each state holds what exists in it, and only it: a connection exists
 * once authenticated, the authentication deadline only until the auth frame arrives, the dialect from the auth on
 * (`asksPushwire`, until then: the upgrade asked for the pushwire subprotocol).
 * Once authenticated the state is the connection itself (`authenticated`, or `draining`: the
 * gateway is shutting down and asked the client to reconnect elsewhere; it still delivers until
 * the client goes, or the gateway's drain deadline closes it). A state object holding the
 * connection was 40 bytes of every idle socket.
 */
export type SessionState =
  | { kind: 'unauthenticated'; authTimer: NodeJS.Timeout; asksPushwire: boolean }
  | { kind: 'authenticating'; dialect: Dialect }
  | Connection
  | { kind: 'closed' };

const CLOSED: SessionState = Object.freeze({ kind: 'closed' });

const AUTHENTICATE_FIRST = 'Authenticate first: `token: TOKEN` or {"token": ...}.';

/**
 * One client socket's life: unauthenticated → authenticating → authenticated → draining → closed. Frames
 * arrive through `receive`, which hands each to its state's handler; whatever ends the socket
 * (the client, a refusal, the gateway draining, the transport), `closed` is the one way out.
 * The auth picks the dialect (see `Dialect`): `token: T` (text or URL) the original's, unless
 * the upgrade asked for the pushwire subprotocol; a JSON auth frame pushwire's.
 */
export class Session {
  state: SessionState;
  readonly address: string;

  constructor(readonly socket: ClientSocket, upgrade: Upgrade, private readonly context: SessionContext) {
    this.address = upgrade.address;
    const authTimer = setTimeout(() => this.refuse(new PushwireError('missing_token', 'Authenticate within the time allowed.'), CloseCode.authTimeout), context.config.authTimeoutMs);
    this.state = { kind: 'unauthenticated', authTimer, asksPushwire: upgrade.protocol === PUSHWIRE_SUBPROTOCOL };
  }

  /** Read after every wait: the socket may have closed meanwhile. */
  private get ended(): boolean {
    return this.state.kind === 'closed';
  }

  /** The connection delivering to this socket, once authenticated. */
  get connection(): Connection | undefined {
    return this.state.kind === 'authenticated' || this.state.kind === 'draining' ? this.state : undefined;
  }

  /**
   * A token in the upgrade URL (`?token=T`) authenticates as the original's `token: T` frame
   * would. The upgrade's query is read here, at open, and not kept with the session.
   */
  authenticateFromUrl(query: string): void {
    const token = new URLSearchParams(query).get('token');
    if (token) this.handle({ kind: 'text-auth', frame: { type: 'auth', token } });
  }

  /** The dialect this socket speaks, once its auth said (null before). */
  private get dialect(): Dialect | null {
    if (this.state.kind === 'authenticating') return this.state.dialect;
    return this.connection?.frames.dialect ?? null;
  }

  /**
   * A frame's text (null: a binary frame). In the original dialect whatever the gateway does not
   * understand is ignored, as the original did. Otherwise a bad frame is refused before
   * authentication and answered with an error frame after.
   */
  receive(text: string | null): void {
    try {
      if (text === null) throw new PushwireError('bad_request', 'Frames are text.');
      this.handle(readClientFrame(text));
    } catch (error) {
      const typed = error instanceof PushwireError ? error : new PushwireError('internal');
      if (!(error instanceof PushwireError)) this.context.log.error({ err: error }, 'frame handling failed');
      if (this.dialect === 'original') return;
      const connection = this.connection;
      if (connection) connection.sendControl({ type: 'error', error: typed.code, message: typed.message });
      else this.refuse(typed, CloseCode.protocolError);
    }
  }

  private handle(incoming: IncomingFrame): void {
    switch (this.state.kind) {
      case 'unauthenticated':
        // Text that is no frame at all may come from a client of the original: it waits for its token.
        if (incoming.kind === 'unknown') return;
        if (incoming.frame.type !== 'auth') return this.refuse(new PushwireError('bad_request', AUTHENTICATE_FIRST), CloseCode.protocolError);
        clearTimeout(this.state.authTimer);
        return this.startAuthentication(incoming.frame, incoming.kind === 'text-auth' && !this.state.asksPushwire ? 'original' : 'pushwire');
      case 'authenticating':
        if (this.state.dialect === 'original') return;
        return this.refuse(new PushwireError('bad_request', AUTHENTICATE_FIRST), CloseCode.protocolError);
      case 'authenticated':
        if (this.state.frames.dialect === 'original') return;
        if (incoming.kind === 'unknown') throw new PushwireError('bad_request', 'A frame is JSON or `token: TOKEN`.');
        return this.handleAuthenticated(this.state, incoming.frame);
      case 'draining':
        if (this.state.frames.dialect === 'original') return;
        if (incoming.kind === 'unknown') throw new PushwireError('bad_request', 'A frame is JSON or `token: TOKEN`.');
        return this.handleDraining(this.state, incoming.frame);
      case 'closed':
        return;
    }
  }

  /**
   * The client has authenticated in time once its auth frame is here: the token's lookup is the
   * gateway's part, and a slow store must not close the socket as if the client had said nothing
   * (4002). A lookup that fails closes it with 1011.
   */
  private startAuthentication(frame: AuthFrame, dialect: Dialect): void {
    this.state = { kind: 'authenticating', dialect };
    // An original client expects every message published once its token is sent, and has no
    // `since` to ask for them: whatever commits while the token is looked up is caught up from now.
    const original = dialect === 'original' ? { since: String(Date.now() / 1000), limit: this.context.config.maxLimit } : {};
    void this.authenticate({ ...frame, ...original }, dialect).catch((error) => {
      this.context.log.error({ err: error }, 'authentication failed');
      this.refuse(new PushwireError('unavailable'), CloseCode.internal);
    });
  }

  private async authenticate(frame: AuthFrame, dialect: Dialect): Promise<void> {
    const { store, config, hub, presence, activity, log } = this.context;
    const user = await store.userByToken(frame.token);
    if (this.ended) return;
    if (!user) return this.refuse(new PushwireError('invalid_token'), CloseCode.authFailed);
    let since: Since | undefined;
    if (frame.since !== undefined) {
      const parsed = parseSince(frame.since, user.id);
      if (!parsed) return this.refuse(new PushwireError('bad_since'), CloseCode.protocolError);
      since = parsed;
    }
    const limit = frame.limit ?? config.defaultLimit;
    if (limit > config.maxLimit) return this.refuse(new PushwireError('bad_limit', `limit is at most ${config.maxLimit}`), CloseCode.protocolError);
    const connection = new Connection(user.id, this.socket, hub.deliveries[dialect]);
    this.state = connection;
    activity.seen(user.id);
    // Subscribe first, then read the store: nothing committed in between can be missed.
    hub.attach(connection);
    // Resuming after a key needs no fresh sequence read: catch-up starts at that key, and the
    // settle check covers what commits meanwhile. Without `since` (or after a time) it does.
    const resumesAfterKey = since !== undefined && 'seq' in since;
    const [stored, acked] = await Promise.all([
      resumesAfterKey ? Promise.resolve(undefined) : store.lastSeq(user.id),
      presence.acked(user.id).catch((error) => {
        log.warn({ err: error }, 'acked position unavailable');
        return 0;
      }),
    ]);
    if (this.ended) return;
    const storedLastSeq = resumesAfterKey ? (since as { seq: number }).seq : stored ?? user.lastSeq;
    // `position`: without `since`, live delivery starts after this key, so a client that loses the
    // socket before its first message resumes from here. `acked`: what the user last acknowledged.
    connection.sendControl({
      type: 'hello', gateway: this.context.gatewayId,
      position: since === undefined ? encodeKey(user.id, storedLastSeq) : null,
      acked: acked > 0 ? encodeKey(user.id, acked) : null,
    });
    await connection.start(storedLastSeq, since, limit);
  }

  private handleAuthenticated(connection: Connection, frame: ClientFrame): void {
    const { config, hub } = this.context;
    switch (frame.type) {
      case 'auth':
        throw new PushwireError('bad_request', 'Already authenticated.');
      case 'ping':
        return connection.sendControl({ type: 'pong' });
      case 'ack': {
        const position = parseSince(frame.key, connection.userId);
        if (!position || !('seq' in position) || position.seq > connection.lastSeq) throw new PushwireError('bad_key', 'Ack a key this socket received.');
        return hub.ack(connection.userId, position.seq);
      }
      case 'fetch': {
        if (!connection.paging) throw new PushwireError('bad_request', 'Nothing more to fetch: send fetch only after a catchup frame with more: true.');
        const since = frame.since === undefined ? { seq: connection.lastSeq } : parseSince(frame.since, connection.userId);
        if (!since) throw new PushwireError('bad_since');
        const limit = frame.limit ?? config.defaultLimit;
        if (limit > config.maxLimit) throw new PushwireError('bad_limit', `limit is at most ${config.maxLimit}`);
        void connection.fetch(since, limit);
        return;
      }
    }
  }

  /** Acks and pings still count while the client moves; new catch-up reads are for the next gateway. */
  private handleDraining(connection: Connection, frame: ClientFrame): void {
    if (frame.type === 'fetch') throw new PushwireError('unavailable', 'This gateway is shutting down: reconnect, and fetch there.');
    return this.handleAuthenticated(connection, frame);
  }

  /** Refuses the client: an error frame (the original dialect has none: the close's reason says it), then the close (which comes back through `closed`). */
  private refuse(error: PushwireError, code: number): void {
    if (this.socket.closed) return;
    if (this.state.kind !== 'authenticated') metrics.authFailures.inc({ reason: error.code });
    if (error.code === 'invalid_token') this.context.admission.authFailed(this.address);
    if (this.dialect !== 'original') this.socket.send(errorFrame(error));
    this.socket.close(code, error.message.slice(0, 120));
  }

  /**
   * The gateway is draining. A pushwire client is asked to reconnect elsewhere and delivered to
   * until it goes. An original one has no such frame, and a socket not yet authenticated has
   * nothing to lose: both are closed at once (1001), so they reconnect now.
   */
  drain(): void {
    const state = this.state;
    if (state.kind === 'closed' || state.kind === 'draining') return;
    if (state.kind !== 'authenticated' || state.frames.dialect === 'original') return this.socket.close(CloseCode.goingAway, 'gateway shutting down, reconnect');
    state.kind = 'draining';
    state.sendControl({ type: 'reconnect', reason: 'draining' } satisfies ReconnectFrame);
  }

  /** The socket is gone, whoever closed it: the one place a session ends. */
  closed(): void {
    const state = this.state;
    this.state = CLOSED;
    this.context.admission.closed(this.address);
    if (state.kind === 'unauthenticated') clearTimeout(state.authTimer);
    if (state.kind === 'authenticated' || state.kind === 'draining') {
      state.stop();
      this.context.hub.detach(state);
    }
  }
}
