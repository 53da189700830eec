import { sdkTests } from './per-transport/sdk.js';

sdkTests('uws');
