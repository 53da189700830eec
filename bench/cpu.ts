import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * What the benchmarks need of the machine: pin processes to cores (the server on one, the load
 * generator on the other, so deliveries/s measures the server rather than the generator) and
 * read a server's CPU time, which measures its cost per delivery whoever is the bottleneck.
 */

export const SERVER_CORE = 0;
export const LOAD_CORE = 1;

/** Pins every thread of `pid` to `core` (threads it starts later inherit it). */
export function pin(pid: number, core: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
}

/**
 * CPU time of these processes (every thread), in seconds: the kernel's run time of each thread
 * from /proc/PID/task/TID/schedstat, in nanoseconds. That is utime + stime before /proc/PID/stat
 * rounds it down to clock ticks (10 ms) per process: a broadcast round costs the seven
 * processes of circus.ini 60–120 ms in all, which the ticks measured to ±10 ms each. A thread
 * that exits takes its time with it (Node's threads live as long as their process), and a
 * process that has exited counts 0 (a database connection the pool closed mid-run): callers
 * compare pids read before and after.
 */
export function cpuSeconds(pids: number[]): number {
  let nanoseconds = 0;
  for (const pid of pids) {
    let threads: string[];
    try {
      threads = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const thread of threads) {
      try {
        nanoseconds += Number(readFileSync(`/proc/${pid}/task/${thread}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
  }
  return nanoseconds / 1e9;
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
