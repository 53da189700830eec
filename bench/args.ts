import { Command } from 'commander';

export { positive, positiveList, whole } from '../loadtest/args.js';

/** A bench command: its name as typed and what it measures; `--help` prints both with the options. */
export const benchCommand = (name: string, description: string) => new Command().name(`npm run ${name} --`).description(description);
