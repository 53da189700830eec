import * as zmq from 'zeromq';

/** Linux's SCHED_BATCH (sched.h). */
const SCHED_BATCH = 3;

/**
 * ZeroMQ as every process here uses it: import it from this module, not from 'zeromq', so the
 * setting below is made before any socket starts the context's I/O threads.
 *
 * An I/O thread moves frames between this process's sockets and TCP. Woken by a send, it
 * preempts the event loop that sent it at once when both share a busy core, writes that one
 * frame, sleeps, and the next send wakes it again: one wake-up and one TCP segment a message at
 * every hop (api → broker → gateway), for circus.ini's daemons on one core. Under SCHED_BATCH it
 * keeps its fair share of the CPU but does not preempt on waking, so it runs when the event loop
 * yields and writes all that was sent meanwhile at once (BENCHMARKS.md, fifteenth pass).
 * With a core to spare it still runs at once. Linux only: elsewhere the policy number means
 * something else, and libzmq aborts on a policy the system refuses.
 */
if (process.platform === 'linux') zmq.context.threadSchedulingPolicy = SCHED_BATCH;

export { zmq };
