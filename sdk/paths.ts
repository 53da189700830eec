import { fileURLToPath } from 'node:url';

/** The repository root: this file runs compiled, from dist/sdk/. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The SDK package's build output (`npm run build`): the browser bundle the api serves at /sdk/, the Node entry, types. */
export const BUNDLE_DIR = fileURLToPath(new URL('../../sdk/dist/', import.meta.url));
