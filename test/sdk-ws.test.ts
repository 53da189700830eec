import { sdkTests } from './per-transport/sdk.js';

sdkTests('ws');
