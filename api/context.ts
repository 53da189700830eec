import type { Config } from '../core/config.js';
import type { NodeRegistry } from '../core/presence/presence.js';
import type { Store } from '../core/store/store.js';
import type { Publisher } from './publisher.js';

/** What the routes need, passed in once. */
export interface ApiContext {
  config: Config;
  store: Store;
  nodes: NodeRegistry;
  publisher: Publisher;
}
