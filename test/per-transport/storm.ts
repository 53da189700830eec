import t from 'tap';
import { runLoad } from '../../loadtest/run.js';
import { Http } from '../helpers/client.js';
import { systemFor, type TransportName } from '../helpers/transports.js';

/** Runs this file's tests with the gateways on `transport` (skipped where it cannot run). */
export function stormTests(transport: TransportName): void {
  // Reconnect storm through the load-test tool: drain one of two gateway processes
  // under load; its clients reconnect to the other with `since` and lose nothing.
  const system = systemFor(t, transport, 'multiprocess');
  if (!system) return;

  t.test('a gateway drained under load: every client back and caught up, nothing lost or repeated', async (t) => {
    let exitCode: number | null | undefined;
    const result = await runLoad({
      api: system().apiUrl, clients: 200, shape: 'per-client', messages: 200, rate: 0, concurrency: 16, sources: 2, drain: 20, progress: false,
      storm: async () => {
        const status = (await new Http(system().monitorUrl).request<{ gateways: { id: string }[] }>('GET', '/status')).body;
        const pid = Number(/-(\d+)-[0-9a-f]+$/.exec(status.gateways[0].id)![1]);
        exitCode = await system().stopProcess('gateway', pid, 'SIGTERM');
      },
    });
    t.equal(exitCode, 0, 'the drained gateway exited on its own, within circus.ini\'s graceful_timeout');
    t.same([result.lost, result.duplicates], [0, 0], `delivered ${result.delivered} of ${result.expected}`);
    t.equal(result.delivered, result.expected);
    t.ok(result.storm!.reconnects > 0, `${result.storm!.reconnects} clients reconnected`);
    t.ok(result.storm!.secondsAfterCommand < 10, `caught up ${result.storm!.secondsAfterCommand.toFixed(2)} s after the drain`);
    await system().startRole('gateway');
  });
}
