/** The Pushwire client for browsers (no dependencies); Node adds `ws` and a file store in `node.ts`. */
export { PushwireClient, type ClientEvents, type ClientOptions, type ClientState, type SocketConstructor, type SocketLike } from './client.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export { createToken, PushwireError, type Envelope } from './http.js';
export { DEFAULT_BATCH_MAX, publish, publishBatch, type BatchItem, type BatchResult, type MessageFields } from './publish.js';
export { localStorageKeyStore, memoryKeyStore, type KeyStore } from './storage.js';
export { enableWebPush, type WebPushOptions } from './webpush.js';
export { CloseCode, FATAL_CLOSE_CODES, type AckFrame, type AuthFrame, type CatchupFrame, type ClientFrame, type ControlFrame, type ErrorFrame, type FetchFrame, type HelloFrame, type MessageFrame, type PingFrame, type PongFrame, type ReconnectFrame, type ServerFrame } from './wire.js';
