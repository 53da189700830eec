const metric = (text: string, name: string): number | null => {
  const match = new RegExp(`^${name} (\\S+)`, 'm').exec(text);
  return match ? Number(match[1]) : null;
};

/**
 * CPU seconds and resident memory of the api and the gateway, from their Prometheus /metrics.
 * With `npm start` both answer from one process: processes are told apart by start time.
 */
export async function scrapeServer(api: string, gateway: string): Promise<{ cpuSeconds: number | null; rssBytes: number | null }> {
  const texts = await Promise.all([`${api}/metrics`, `http://${gateway}/metrics`].map((url) => fetch(url).then((r) => r.text(), () => '')));
  const processes = new Map<number, { cpu: number; rss: number }>();
  for (const text of texts) {
    const start = metric(text, 'pushwire_process_start_time_seconds');
    const cpu = metric(text, 'pushwire_process_cpu_seconds_total');
    const rss = metric(text, 'pushwire_process_resident_memory_bytes');
    if (start !== null && cpu !== null && rss !== null) processes.set(start, { cpu, rss });
  }
  if (processes.size === 0) return { cpuSeconds: null, rssBytes: null };
  const all = [...processes.values()];
  return { cpuSeconds: all.reduce((sum, p) => sum + p.cpu, 0), rssBytes: all.reduce((sum, p) => sum + p.rss, 0) };
}
