import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * The one configuration of every daemon. Each option has an environment variable, a key in
 * the optional file (YAML or JSON) named by PUSHWIRE_CONFIG_FILE, a default and a reason. The README's
 * configuration table is these definitions. Precedence: environment > file > profile > default.
 */
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
/** `key:secret,key:secret` (environment) or {key: secret} (file). */
const keySecrets = z.unknown().transform((value, context) => {
  const pairs = typeof value === 'string'
    ? value.split(',').map((pair) => pair.trim()).filter(Boolean).map((pair) => pair.split(':'))
    : value && typeof value === 'object' ? Object.entries(value) : null;
  if (!pairs || pairs.some((pair) => pair.length !== 2 || typeof pair[1] !== 'string' || !pair[0] || !pair[1])) {
    context.addIssue({ code: 'custom', message: 'must be key:secret pairs separated by commas' });
    return z.NEVER;
  }
  return Object.fromEntries(pairs) as Record<string, string>;
});
/** Comma-separated CIDRs or addresses (environment), or an array of them (file). */
const addressRanges = z.union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((range) => range.trim()).filter(Boolean))
  .refine((ranges) => ranges.every((range) => (range.includes('/') ? ipaddr.isValidCIDR(range) : ipaddr.isValid(range))), 'must be CIDRs or addresses separated by commas');
/** A URL path prefix for a compatibility API, or "off". */
const prefix = z.string().regex(/^(off|\/[A-Za-z0-9._~/-]*)$/, 'must be a path starting with / or "off"').transform((value) => value.replace(/\/+$/, ''));
const optionalUrl = (protocols: string[]) =>
  z.string().trim().optional().transform((value) => (value === '' ? undefined : value)).refine(
    (value) => value === undefined || protocols.some((p) => value.startsWith(p)),
    { message: `must start with ${protocols.join(' or ')}` },
  );

export const options = {
  profile: { env: 'PUSHWIRE_PROFILE', schema: z.enum(['dev', 'test']), default: 'dev',
    doc: 'Port set: dev (api 5001, gateway 5002, monitor 5003, broker 5560/5561) or test (5011/5012/5013/5570/5571).' },
  host: { env: 'PUSHWIRE_HOST', schema: z.string().min(1), default: '127.0.0.1',
    doc: 'Interface every daemon listens on. Loopback by default so a first run exposes nothing.' },
  apiPort: { env: 'PUSHWIRE_API_PORT', schema: port, default: undefined, doc: 'HTTP API port (profile default).' },
  apiFd: { env: 'PUSHWIRE_API_FD', schema: z.coerce.number().int().min(3).optional(), default: undefined,
    doc: 'Listen on this inherited socket instead of HOST:API_PORT: how circus runs several api processes on one port (use_sockets, `--fd $(circus.sockets.api)`).' },
  gatewayPort: { env: 'PUSHWIRE_GATEWAY_PORT', schema: port, default: undefined, doc: 'Websocket gateway port (profile default).' },
  gatewayTransport: { env: 'PUSHWIRE_GATEWAY_TRANSPORT', schema: z.enum(['auto', 'uws', 'ws']), default: 'auto',
    doc: 'What serves websockets: auto (native uWebSockets.js where a build of it loads on this Node, else ws), uws (fail to start without it) or ws (ws on node:http, any Node).' },
  monitorPort: { env: 'PUSHWIRE_MONITOR_PORT', schema: port, default: undefined, doc: 'Monitor HTTP port (profile default).' },
  bus: { env: 'PUSHWIRE_BUS', schema: z.enum(['auto', 'memory', 'zeromq']), default: 'auto',
    doc: 'How the roles reach each other: `memory` when every role runs in one process (what auto picks for `npm start`), `zeromq` through the broker (what auto picks for every daemon of circus.ini).' },
  brokerHost: { env: 'PUSHWIRE_BROKER_HOST', schema: z.string().min(1), default: '127.0.0.1', doc: 'Host the broker listens on and the others connect to.' },
  brokerInPort: { env: 'PUSHWIRE_BROKER_IN_PORT', schema: port, default: undefined, doc: 'Broker XSUB port that publishers connect to (profile default).' },
  brokerOutPort: { env: 'PUSHWIRE_BROKER_OUT_PORT', schema: port, default: undefined, doc: 'Broker XPUB port that subscribers connect to (profile default).' },
  busSecurity: { env: 'PUSHWIRE_BUS_SECURITY', schema: z.enum(['curve', 'plain']), default: 'curve',
    doc: 'curve: the bus is encrypted and the broker admits only the keys in `PUSHWIRE_BUS_KEYS_DIR`, each role on its side (api and gateways publish, gateways and the monitor subscribe). plain: no authentication, anyone reaching the broker\'s ports reads and forges messages; refused unless `PUSHWIRE_BROKER_HOST` is a loopback address, and warned about at start.' },
  busKeysDir: { env: 'PUSHWIRE_BUS_KEYS_DIR', schema: z.string().min(1), default: 'bus-keys',
    doc: 'Where the bus\'s CURVE keys are: NAME.key (public) and NAME.secret for the broker, api, gateway and monitor, as `npm run bus-keys` writes them. The broker reads its pair and the roles\' public keys; a role its own pair and broker.key.' },
  publicUrl: { env: 'PUSHWIRE_PUBLIC_URL', schema: optionalUrl(['http://', 'https://']), default: undefined,
    doc: 'Base URL of the API as clients see it; queue URLs are built from it. Default http://HOST:API_PORT.' },
  gatewayAddress: {
    env: 'PUSHWIRE_GATEWAY_ADDRESS',
    schema: z.string().regex(/^(?:[^\s/:]+|\[[0-9a-fA-F:.]+\]):\d{1,5}$|^wss?:\/\/\S+$/, 'must be host:port or a ws:// or wss:// URL').optional(),
    default: undefined,
    doc: 'What this gateway advertises in /nodes/: host:port (clients connect to ws://host:port/, wss:// when the API is https), '
      + 'or the URL that reaches it through a reverse proxy (wss://push.example.com/ws/; see deploy/nginx/). Default HOST:GATEWAY_PORT.',
  },
  databaseUrl: { env: 'DATABASE_URL', schema: optionalUrl(['postgres://', 'postgresql://']), default: undefined,
    doc: 'PostgreSQL URL. Unset: embedded SQLite in DATA_DIR (one process only).' },
  redisUrl: { env: 'REDIS_URL', schema: optionalUrl(['redis://', 'rediss://']), default: undefined,
    doc: 'Redis URL for presence and the gateway registry. Unset: in-process (embedded mode only).' },
  redisPrefix: { env: 'PUSHWIRE_REDIS_PREFIX', schema: z.string(), default: 'pw:', doc: 'Prefix of every Redis key, so several deployments can share one Redis.' },
  dataDir: { env: 'PUSHWIRE_DATA_DIR', schema: z.string().min(1), default: 'data', doc: 'Where embedded mode keeps its SQLite database (pushwire.sqlite, with its write-ahead log beside it, copied into the database every ~40 MB).' },
  logLevel: { env: 'PUSHWIRE_LOG_LEVEL', schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), default: 'info', doc: 'Log level.' },
  logFormat: { env: 'PUSHWIRE_LOG_FORMAT', schema: z.enum(['auto', 'json', 'pretty']), default: 'auto',
    doc: 'Logs on stdout as JSON lines (json), as readable lines (pretty), or readable on a terminal and JSON otherwise (auto).' },
  maxRequestBytes: { env: 'PUSHWIRE_MAX_REQUEST_BYTES', schema: positiveInt, default: 8192,
    doc: 'Largest HTTP request body; larger gets 413 payload_too_large. Push payloads are ~4 KB on every platform.' },
  maxFieldLength: { env: 'PUSHWIRE_MAX_FIELD_LENGTH', schema: positiveInt, default: 2048, doc: 'Longest title/body/actionUrl/iconUrl.' },
  messageTtlSeconds: { env: 'PUSHWIRE_MESSAGE_TTL', schema: positiveInt, default: 7 * 24 * 3600,
    doc: 'Default message lifetime (a week, enough for a device off over a holiday). A publish may ask for less or more with `ttl`.' },
  maxTtlSeconds: { env: 'PUSHWIRE_MAX_TTL', schema: positiveInt, default: 30 * 24 * 3600, doc: 'Largest `ttl` a publish may ask for.' },
  queueBacklog: { env: 'PUSHWIRE_QUEUE_BACKLOG', schema: positiveInt, default: 1000,
    doc: 'Messages kept per queue; older ones are pruned and catch-up reports `truncated`.' },
  retentionSweepMs: { env: 'PUSHWIRE_RETENTION_SWEEP_MS', schema: positiveInt, default: 60_000,
    doc: 'How often the api prunes expired and over-backlog messages. A message lives at least its TTL and at most TTL + this.' },
  idleTokenTtlSeconds: { env: 'PUSHWIRE_IDLE_TOKEN_TTL', schema: positiveInt, default: 30 * 24 * 3600,
    doc: 'A token unused this long (no websocket, no request with it) that holds nothing but its own queue (no domain queue, no device) expires, with that queue and its messages: minted tokens do not pile up. A month by default.' },
  maxQueuesPerToken: { env: 'PUSHWIRE_MAX_QUEUES_PER_TOKEN', schema: positiveInt, default: 1000, doc: 'Queues one token may own.' },
  defaultLimit: { env: 'PUSHWIRE_DEFAULT_LIMIT', schema: positiveInt, default: 100, doc: 'Catch-up page size when `limit` is not given.' },
  maxLimit: { env: 'PUSHWIRE_MAX_LIMIT', schema: positiveInt, default: 1000, doc: 'Largest `limit`; larger gets 400 bad_limit.' },
  commitsInFlight: { env: 'PUSHWIRE_COMMITS_IN_FLIGHT', schema: z.coerce.number().int().min(1).max(8), default: 4,
    doc: 'Most publish transactions one api process runs at once; publishes arriving while one runs share the next (group commit, per-user order exact). A second and later one starts only once `PUSHWIRE_PARALLEL_COMMIT_FROM` publishes wait. At most 8, under the pool of 10 connections; embedded SQLite runs 1 (one thread writes).' },
  parallelCommitFrom: { env: 'PUSHWIRE_PARALLEL_COMMIT_FROM', schema: positiveInt, default: 16,
    doc: 'Publishes that must be waiting before a transaction starts beside a running one. Below it they wait and share the next: a batch costs PostgreSQL less per message the larger it is (half the CPU per message under 32 single publishers than starting at once); under 32 single publishers in flight, a second transaction once 16 wait stores 9% more a second than one at a time, at less CPU per message (BENCHMARKS.md, eleventh pass). 1 starts one whenever a slot is free.' },
  groupCommitMax: { env: 'PUSHWIRE_GROUP_COMMIT_MAX', schema: positiveInt, default: 1000, doc: 'Most publishes in one transaction.' },
  maxBatchMessages: { env: 'PUSHWIRE_MAX_BATCH_MESSAGES', schema: positiveInt, default: 1000,
    doc: 'Most messages in one `POST /publish`; more gets 413 too_many_messages.' },
  maxBatchBytes: { env: 'PUSHWIRE_MAX_BATCH_BYTES', schema: positiveInt, default: 2 * 1024 * 1024,
    doc: 'Largest `POST /publish` body; larger gets 413 payload_too_large.' },
  queueOwnerCache: { env: 'PUSHWIRE_QUEUE_OWNER_CACHE', schema: positiveInt, default: 100_000,
    doc: 'Queue owners each api process keeps in memory for publishing (a queue never changes owner), least recently used out first.' },
  trustProxy: { env: 'PUSHWIRE_TRUST_PROXY', schema: z.string(), default: '',
    doc: 'Reverse proxies whose X-Forwarded-For names the client (its address then keys rate limits and per-address caps): `true` (any), their addresses or CIDRs comma-separated, or empty (none: the connection\'s address is the client\'s).' },
  rateLimitExempt: { env: 'PUSHWIRE_RATE_LIMIT_EXEMPT', schema: addressRanges, default: '127.0.0.0/8,::1',
    doc: 'Client addresses (CIDRs or addresses, comma-separated) no rate limit applies to. Default: this machine (the load-test tool, a back end on the same host); behind a reverse proxy on this host, set PUSHWIRE_TRUST_PROXY, or clear this.' },
  rateTokensPerMinute: { env: 'PUSHWIRE_RATE_TOKENS_PER_MINUTE', schema: positiveInt, default: 30,
    doc: 'Tokens (`POST /token/`) one client address may create per minute; more gets 429 rate_limited with Retry-After. Counted in Redis when it is configured, so shared by every api process.' },
  rateQueuesPerMinute: { env: 'PUSHWIRE_RATE_QUEUES_PER_MINUTE', schema: positiveInt, default: 60,
    doc: 'Queues (`POST /queue/`) one token may create or look up per minute; more gets 429 rate_limited.' },
  rateDevicesPerMinute: { env: 'PUSHWIRE_RATE_DEVICES_PER_MINUTE', schema: positiveInt, default: 60,
    doc: 'Device registrations per minute, per token (per client address without one), counted together on every route that registers one (`POST /devices/`, `POST /push/subscribe`); more gets 429 rate_limited.' },
  ratePublishesPerQueuePerMinute: { env: 'PUSHWIRE_RATE_PUBLISHES_PER_QUEUE_PER_MINUTE', schema: positiveInt, default: 600,
    doc: 'Messages one queue may receive per minute through the routes that need only its URL (`POST /queue/{q}/`, each item of `POST /publish`), whoever sends them: a leaked queue URL cannot flood its user\'s devices. More get 429 rate_limited (with Retry-After; in a batch, that item alone). Counted in each api process and shared through Redis once a second when it is configured.' },
  maxConnectionsPerAddress: { env: 'PUSHWIRE_MAX_CONNECTIONS_PER_ADDRESS', schema: positiveInt, default: 256,
    doc: 'Websockets one client address may hold open on one gateway process; the next upgrade gets 429 too_many_connections.' },
  rateConnectsPerMinute: { env: 'PUSHWIRE_RATE_CONNECTS_PER_MINUTE', schema: positiveInt, default: 600,
    doc: 'New websockets one client address may open per minute; more get 429 rate_limited with Retry-After. Counted in each gateway process and shared through Redis once a second when it is configured.' },
  rateAuthFailuresPerMinute: { env: 'PUSHWIRE_RATE_AUTH_FAILURES_PER_MINUTE', schema: positiveInt, default: 30,
    doc: 'Failed websocket authentications (unknown token) one client address may make per minute; after that its upgrades get 429 rate_limited until the minute ends. Shared between gateway processes like the connects.' },
  httpHeadersTimeoutMs: { env: 'PUSHWIRE_HTTP_HEADERS_TIMEOUT_MS', schema: positiveInt, default: 5000,
    doc: 'An HTTP request whose headers have not all arrived by then gets 408 request_timeout and its connection is closed (every daemon\'s HTTP server).' },
  httpRequestTimeoutMs: { env: 'PUSHWIRE_HTTP_REQUEST_TIMEOUT_MS', schema: positiveInt, default: 10_000,
    doc: 'An HTTP request (headers and body) that has not all arrived by then gets 408 request_timeout and its connection is closed, so slow senders cannot hold connections.' },
  slowRequestMs: { env: 'PUSHWIRE_SLOW_REQUEST_MS', schema: positiveInt, default: 1000,
    doc: 'HTTP requests slower than this are logged at info (with 5xx answers); the rest only at debug, so logging costs no write per request.' },
  authTimeoutMs: { env: 'PUSHWIRE_AUTH_TIMEOUT_MS', schema: positiveInt, default: 5000, doc: 'A websocket that has not sent its auth frame by then is closed (4002); looking up its token afterwards does not count against it.' },
  idleTimeoutSeconds: { env: 'PUSHWIRE_IDLE_TIMEOUT', schema: z.coerce.number().int().min(8).max(960), default: 60,
    doc: 'Websocket idle timeout; the gateway pings before it, so only dead sockets are reaped.' },
  maxFrameBytes: { env: 'PUSHWIRE_MAX_FRAME_BYTES', schema: positiveInt, default: 4096, doc: 'Largest client frame; larger closes with 1009.' },
  softBackpressureBytes: { env: 'PUSHWIRE_SOFT_BACKPRESSURE', schema: positiveInt, default: 64 * 1024,
    doc: 'Past this many buffered bytes a socket\'s outgoing messages wait in a queue that collapses by replaceId.' },
  maxPendingMessages: { env: 'PUSHWIRE_MAX_PENDING', schema: positiveInt, default: 1000,
    doc: 'A slow socket with more waiting messages than this is closed (4008); the client catches up on reconnect.' },
  heartbeatMs: { env: 'PUSHWIRE_HEARTBEAT_MS', schema: positiveInt, default: 500, doc: 'Gateway heartbeat period.' },
  nodeTimeoutMs: { env: 'PUSHWIRE_NODE_TIMEOUT_MS', schema: positiveInt, default: 2500,
    doc: 'A gateway silent for this long leaves /nodes/ and presence. With the monitor\'s 250 ms sweep, a dead gateway is gone within 3 s.' },
  resyncMs: { env: 'PUSHWIRE_RESYNC_MS', schema: positiveInt, default: 10_000,
    doc: 'Gateways compare each connected user\'s stored sequence with what they delivered this often (a tenth of the users every tenth of it), covering a bus that dropped.' },
  gatewayDrainMs: { env: 'PUSHWIRE_GATEWAY_DRAIN_MS', schema: z.coerce.number().int().min(0), default: 3000,
    doc: 'On SIGTERM a gateway sends every client a reconnect frame and waits this long for them to leave before closing the rest (1001).' },
  brokerHttpPort: { env: 'PUSHWIRE_BROKER_HTTP_PORT', schema: port, default: undefined, doc: 'Broker /health, /ready and /metrics port (profile default).' },
  pusherPort: { env: 'PUSHWIRE_PUSHER_PORT', schema: port, default: undefined, doc: 'Push worker health port (profile default).' },
  adminToken: { env: 'PUSHWIRE_ADMIN_TOKEN', schema: z.string().min(16).optional(), default: undefined,
    doc: 'Bearer token for application routes (feedback, expired devices). Unset: those routes answer 403.' },
  maxDevicesPerToken: { env: 'PUSHWIRE_MAX_DEVICES_PER_TOKEN', schema: positiveInt, default: 100,
    doc: 'Devices one token may register, on every route that registers one (`POST /devices/`, `POST /push/subscribe` with a token); more gets 409 too_many_devices.' },
  webPushPrivateAddresses: { env: 'PUSHWIRE_WEBPUSH_PRIVATE_ADDRESSES', schema: addressRanges, default: '',
    doc: 'Web Push endpoints must lead to public addresses: the push worker refuses (after DNS, at each send) and registration refuses (address literals) loopback, private, link-local, metadata and other non-public ranges, so a subscription cannot make it connect inside your network. Ranges listed here (CIDRs or addresses, comma-separated) are allowed anyway: a push service of your own.' },
  maxAnonymousSubscriptions: { env: 'PUSHWIRE_MAX_ANONYMOUS_SUBSCRIPTIONS', schema: positiveInt, default: 100_000,
    doc: 'Anonymous Web Push subscriptions (`POST /push/subscribe` without a token: the broadcast audience); more gets 409 too_many_devices.' },
  pushAckTimeoutMs: { env: 'PUSHWIRE_PUSH_ACK_TIMEOUT_MS', schema: positiveInt, default: 10_000,
    doc: 'A connected user who has not acknowledged a message within this time gets it by push too, so a half-dead socket cannot swallow it.' },
  pushPollMs: { env: 'PUSHWIRE_PUSH_POLL_MS', schema: positiveInt, default: 100, doc: 'How often the push worker looks for due pushes.' },
  pushBatch: { env: 'PUSHWIRE_PUSH_BATCH', schema: positiveInt, default: 1000, doc: 'Pushes one worker claims at a time.' },
  pushConcurrency: { env: 'PUSHWIRE_PUSH_CONCURRENCY', schema: positiveInt, default: 100,
    doc: 'Requests in flight per provider for one-target-per-request providers (Web Push, FCM v1).' },
  pushLeaseMs: { env: 'PUSHWIRE_PUSH_LEASE_MS', schema: positiveInt, default: 30_000,
    doc: 'A claimed push not recorded within this time (worker crashed) is sent again, with the same collapse id.' },
  pushMaxBackoffMs: { env: 'PUSHWIRE_PUSH_MAX_BACKOFF_MS', schema: positiveInt, default: 600_000,
    doc: 'Longest wait between retries (exponential backoff with full jitter; Retry-After wins when longer). Retries stop when the message expires.' },
  demoPrefix: { env: 'PUSHWIRE_DEMO_PREFIX', schema: prefix, default: '/demo',
    doc: 'Where the api serves the demo page ("off" to disable). The client SDK files are always served at /sdk/.' },
  corsOrigin: { env: 'PUSHWIRE_CORS_ORIGIN', schema: z.string().min(1), default: '*',
    doc: 'Origins whose pages may call the HTTP API: "*" (any; tokens travel in headers, never cookies), a comma-separated list, or "off".' },
  webPushPrefix: { env: 'PUSHWIRE_WEBPUSH_PREFIX', schema: prefix, default: '/push',
    doc: 'Where the Web Push subscription module is mounted ("off" to disable): POST /push/subscribe etc.' },
  pushjackPrefix: { env: 'PUSHWIRE_PUSHJACK_PREFIX', schema: prefix, default: '/pushjack',
    doc: 'Where the pushjack-style bulk send API is mounted ("off" to disable); it needs the admin token.' },
  moxiePrefix: { env: 'PUSHWIRE_MOXIE_PREFIX', schema: prefix, default: '/notifications',
    doc: 'Where the Moxie notifications API is mounted ("off" to disable).' },
  moxieUsers: { env: 'PUSHWIRE_MOXIE_USERS', schema: keySecrets, default: {},
    doc: 'Moxie API keys and their shared secrets, `key1:secret1,key2:secret2` (or an object in the file). None: writes answer 401.' },
  moxieDateWindowSeconds: { env: 'PUSHWIRE_MOXIE_DATE_WINDOW', schema: positiveInt, default: 300,
    doc: 'A signed Moxie request whose Date is further than this from now is refused; nonces are remembered this long.' },
  moxieBroadcastToken: { env: 'PUSHWIRE_MOXIE_BROADCAST_TOKEN', schema: z.string().min(16).max(128).optional(), default: undefined,
    doc: 'A token (created if new) whose own queue receives every Moxie alert and follow-up: websocket clients holding it see them at once.' },
  smtpUrl: { env: 'PUSHWIRE_SMTP_URL', schema: optionalUrl(['smtp://', 'smtps://']), default: undefined,
    doc: 'SMTP server of the email provider (development): Moxie pushes are also mailed.' },
  emailFrom: { env: 'PUSHWIRE_EMAIL_FROM', schema: z.string().optional(), default: 'pushwire@localhost', doc: 'Sender of those emails.' },
  emailTo: { env: 'PUSHWIRE_EMAIL_TO', schema: z.string().optional(), default: undefined, doc: 'Comma-separated recipients of those emails.' },
  pushletPrefix: { env: 'PUSHWIRE_PUSHLET_PREFIX', schema: prefix, default: '/pushlet',
    doc: 'Where the Pushlet-compatible API is mounted ("off" to disable).' },
  pushletUser: { env: 'PUSHWIRE_PUSHLET_USER', schema: z.string().optional(), default: undefined,
    doc: 'HTTP basic auth user of the Pushlet API. Unset: every Pushlet route answers Pushlet\'s `access denied`.' },
  pushletPassword: { env: 'PUSHWIRE_PUSHLET_PASSWORD', schema: z.string().optional(), default: undefined, doc: 'HTTP basic auth password of the Pushlet API.' },
  apnsKeyFile: { env: 'PUSHWIRE_APNS_KEY_FILE', schema: z.string().optional(), default: undefined, doc: 'APNS token auth: the .p8 signing key.' },
  apnsKeyId: { env: 'PUSHWIRE_APNS_KEY_ID', schema: z.string().optional(), default: undefined, doc: 'APNS token auth: key id.' },
  apnsTeamId: { env: 'PUSHWIRE_APNS_TEAM_ID', schema: z.string().optional(), default: undefined, doc: 'APNS token auth: team id.' },
  apnsCertFile: { env: 'PUSHWIRE_APNS_CERT_FILE', schema: z.string().optional(), default: undefined,
    doc: 'APNS certificate auth: a PEM (certificate and key) or P12 file.' },
  apnsPassphrase: { env: 'PUSHWIRE_APNS_PASSPHRASE', schema: z.string().optional(), default: undefined, doc: 'Passphrase of the APNS P12 or key.' },
  apnsTopic: { env: 'PUSHWIRE_APNS_TOPIC', schema: z.string().optional(), default: undefined, doc: 'APNS topic: the app\'s bundle id.' },
  apnsProduction: { env: 'PUSHWIRE_APNS_PRODUCTION', schema: z.stringbool().or(z.boolean()), default: false, doc: 'APNS production (true) or sandbox (false).' },
  apnsAddress: { env: 'PUSHWIRE_APNS_ADDRESS', schema: z.string().optional(), default: undefined,
    doc: 'APNS host[:port] instead of Apple\'s (a local APNs-compatible server).' },
  fcmServiceAccountFile: { env: 'PUSHWIRE_FCM_SERVICE_ACCOUNT_FILE', schema: z.string().optional(), default: undefined,
    doc: 'FCM HTTP v1: the service-account JSON (its project_id and token_uri are used).' },
  fcmEndpoint: { env: 'PUSHWIRE_FCM_ENDPOINT', schema: optionalUrl(['https://', 'http://']), default: 'https://fcm.googleapis.com',
    doc: 'FCM HTTP v1 base URL.' },
  gcmServerKey: { env: 'PUSHWIRE_GCM_SERVER_KEY', schema: z.string().optional(), default: undefined,
    doc: 'Legacy GCM/FCM HTTP server key (Google shut its service down in 2024; GCM-compatible services still speak it).' },
  gcmEndpoint: { env: 'PUSHWIRE_GCM_ENDPOINT', schema: optionalUrl(['https://', 'http://']), default: 'https://fcm.googleapis.com/fcm/send',
    doc: 'Legacy GCM send URL.' },
  vapidSubject: { env: 'PUSHWIRE_VAPID_SUBJECT', schema: z.string().optional(), default: 'mailto:admin@localhost',
    doc: 'VAPID subject (mailto: or https: URL of the operator).' },
  vapidPublicKey: { env: 'PUSHWIRE_VAPID_PUBLIC_KEY', schema: z.string().optional(), default: undefined,
    doc: 'VAPID public key (base64url). Unset: a key pair is generated on first start and kept in the store.' },
  vapidPrivateKey: { env: 'PUSHWIRE_VAPID_PRIVATE_KEY', schema: z.string().optional(), default: undefined, doc: 'VAPID private key (base64url).' },
} as const;

export type OptionName = keyof typeof options;
type Raw = { [K in OptionName]: z.output<(typeof options)[K]['schema']> };

export const profiles = {
  dev: { apiPort: 5001, gatewayPort: 5002, monitorPort: 5003, pusherPort: 5004, brokerHttpPort: 5005, brokerInPort: 5560, brokerOutPort: 5561 },
  test: { apiPort: 5011, gatewayPort: 5012, monitorPort: 5013, pusherPort: 5014, brokerHttpPort: 5015, brokerInPort: 5570, brokerOutPort: 5571 },
} as const;

export interface Config extends Readonly<Omit<Raw, keyof (typeof profiles)['dev'] | 'publicUrl' | 'gatewayAddress'>> {
  readonly apiPort: number;
  readonly gatewayPort: number;
  readonly monitorPort: number;
  readonly pusherPort: number;
  readonly brokerHttpPort: number;
  readonly brokerInPort: number;
  readonly brokerOutPort: number;
  readonly publicUrl: string;
  readonly gatewayAddress: string;
  /** Embedded when neither DATABASE_URL nor REDIS_URL is set: every role in one process. */
  readonly embedded: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Loads, validates and freezes the configuration. `overrides` (by option name) win over everything; tests use them. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<OptionName, unknown>> = {}): Config {
  const problems: string[] = [];
  const file = readConfigFile(env.PUSHWIRE_CONFIG_FILE, problems);
  const raw: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(options) as [OptionName, (typeof options)[OptionName]][]) {
    const value = name in overrides ? overrides[name] : env[option.env] ?? file[name] ?? option.default;
    if (value === undefined) continue;
    const parsed = option.schema.safeParse(value);
    if (parsed.success) raw[name] = parsed.data;
    else problems.push(`${option.env}=${shown(name, value)}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  for (const key of Object.keys(file)) if (!(key in options)) problems.push(`${env.PUSHWIRE_CONFIG_FILE}: unknown option "${key}"`);
  const values = { ...profiles[(raw.profile as 'dev' | 'test') ?? 'dev'], ...raw } as Raw & (typeof profiles)['dev'];
  if (Boolean(values.databaseUrl) !== Boolean(values.redisUrl)) {
    problems.push('DATABASE_URL and REDIS_URL go together: set both (multi-process) or neither (embedded)');
  }
  if (values.maxLimit < values.defaultLimit) problems.push('PUSHWIRE_MAX_LIMIT must be at least PUSHWIRE_DEFAULT_LIMIT');
  if (values.maxTtlSeconds < values.messageTtlSeconds) problems.push('PUSHWIRE_MAX_TTL must be at least PUSHWIRE_MESSAGE_TTL');
  if (values.httpHeadersTimeoutMs > values.httpRequestTimeoutMs) problems.push('PUSHWIRE_HTTP_HEADERS_TIMEOUT_MS may not exceed PUSHWIRE_HTTP_REQUEST_TIMEOUT_MS');
  if (values.nodeTimeoutMs <= values.heartbeatMs) problems.push('PUSHWIRE_NODE_TIMEOUT_MS must exceed PUSHWIRE_HEARTBEAT_MS');
  if (Boolean(values.vapidPublicKey) !== Boolean(values.vapidPrivateKey)) problems.push('PUSHWIRE_VAPID_PUBLIC_KEY and PUSHWIRE_VAPID_PRIVATE_KEY go together');
  const apnsToken = [values.apnsKeyFile, values.apnsKeyId, values.apnsTeamId];
  if (apnsToken.some(Boolean) && !apnsToken.every(Boolean)) problems.push('APNS token auth needs PUSHWIRE_APNS_KEY_FILE, PUSHWIRE_APNS_KEY_ID and PUSHWIRE_APNS_TEAM_ID');
  if (Boolean(values.pushletUser) !== Boolean(values.pushletPassword)) problems.push('PUSHWIRE_PUSHLET_USER and PUSHWIRE_PUSHLET_PASSWORD go together');
  if ((values.apnsKeyFile || values.apnsCertFile) && !values.apnsTopic) problems.push('APNS needs PUSHWIRE_APNS_TOPIC (the app\'s bundle id)');
  if (values.busSecurity === 'plain' && !isLoopback(values.brokerHost)) {
    problems.push(`PUSHWIRE_BUS_SECURITY=plain needs the broker on a loopback address (PUSHWIRE_BROKER_HOST is ${values.brokerHost}): anyone who reaches its ports could read and forge messages`);
  }
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze({
    ...values,
    publicUrl: (values.publicUrl ?? `http://${values.host}:${values.apiPort}`).replace(/\/+$/, ''),
    gatewayAddress: values.gatewayAddress ?? `${values.host}:${values.gatewayPort}`,
    embedded: !values.databaseUrl,
  });
}

/** Options whose values are credentials: a configuration error names them but never prints them (logs are read by more people than secrets are). */
const SECRETS: ReadonlySet<OptionName> = new Set(['adminToken', 'moxieUsers', 'moxieBroadcastToken', 'pushletPassword', 'gcmServerKey', 'vapidPrivateKey']);
/** URLs that may carry a password (postgres://user:password@host/db). */
const URLS_WITH_PASSWORDS: ReadonlySet<OptionName> = new Set(['databaseUrl', 'redisUrl']);

/** A rejected value as a configuration error shows it. */
function shown(name: OptionName, value: unknown): string {
  if (SECRETS.has(name)) return '(a secret, not shown)';
  if (URLS_WITH_PASSWORDS.has(name) && typeof value === 'string') return JSON.stringify(value.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@'));
  return JSON.stringify(value);
}

/** The configuration as `pushwire check-config` prints it: secrets replaced, passwords in URLs masked. */
export function redacted(config: Config): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).map(([name, value]) => {
    if (SECRETS.has(name as OptionName) && value !== undefined) return [name, '(a secret, not shown)'];
    if (URLS_WITH_PASSWORDS.has(name as OptionName) && typeof value === 'string') return [name, value.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')];
    return [name, value];
  }));
}

/** 127.0.0.0/8, ::1 or localhost: only this machine reaches it. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The configuration file: YAML (.yaml, .yml) or JSON; one holding only comments is empty. */
function readConfigFile(path: string | undefined, problems: string[]): Record<string, unknown> {
  if (!path) return {};
  try {
    const text = readFileSync(path, 'utf8');
    const parsed: unknown = /\.ya?ml$/i.test(path) ? parseYaml(text) ?? {} : JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    problems.push(`${path}: must hold an object (key: value)`);
  } catch (error) {
    problems.push(`${path}: ${(error as Error).message}`);
  }
  return {};
}
