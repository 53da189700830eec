import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * What the benchmarks need of the machine: pin processes to cores (the server on one, the load
 * generator on the other, so deliveries/s measures the server rather than the generator) and
 * read a server's CPU time, which measures its cost per delivery whoever is the bottleneck.
 */
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

export const SERVER_CORE = 0;
export const LOAD_CORE = 1;

/** Pins every thread of `pid` to `core` (threads it starts later inherit it). */
export function pin(pid: number, core: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
}

/**
 * utime + stime of these processes (all their threads), in seconds, from /proc/PID/stat. A
 * process that has exited counts 0 (a database connection the pool closed mid-run): callers
 * compare pids read before and after.
 */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_SECOND;
}

/**
 * TCP segments sent on this host so far (/proc/net/snmp, OutSegs). On loopback every write of
 * a server becomes a segment and its client's acknowledgement another, so the count per delivery
 * says how many messages each write carried, which is what a delivery's kernel cost follows.
 */
export function tcpSegmentsSent(): number {
  const [names, values] = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((line) => line.startsWith('Tcp:')).map((line) => line.split(' '));
  return Number(values[names.indexOf('OutSegs')]);
}
