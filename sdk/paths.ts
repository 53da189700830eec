import { fileURLToPath } from 'node:url';

/** The package root: this file runs compiled, from dist/sdk/. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where `npm run build` puts the browser bundle the api serves at /sdk/. */
export const BUNDLE_DIR = fileURLToPath(new URL('../sdk-bundle/', import.meta.url));
