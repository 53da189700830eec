/**
 * One run of one system of the per-user section, in a load generator process of its own
 * (per-user.ts forks it): `node per-user-run.js <system name> <PerUserArgs as JSON>`; the
 * measurement goes back to the parent as one IPC message.
 */
import { LOAD_CORE, pin } from './cpu.js';
import { measure, type PerUserArgs } from './per-user.js';

const [name, args] = process.argv.slice(2);
pin(process.pid, LOAD_CORE);
const measured = await measure(name, JSON.parse(args) as PerUserArgs);
process.send!(measured, () => process.exit(0));
