import t from 'tap';
import { startEmbedded } from './helpers/system.js';

/** The start banner of `npm start` names the pages a newcomer is told to open, and they answer. */
t.test('npm start names the demo page, the API docs and the dashboard, and each serves its page', async (t) => {
  const system = await startEmbedded();
  t.teardown(() => system.stop());
  const banner = system.output();
  for (const [name, title] of [['demo page', /<html/i], ['API docs', /swagger/i], ['dashboard', /<html/i]] as const) {
    const url = new RegExp(`^  ${name}\\s+(\\S+)`, 'm').exec(banner)?.[1];
    t.ok(url, `the banner names the ${name}`);
    if (!url) continue;
    const response = await fetch(url);
    t.equal(response.status, 200, `${name} at ${url} answers`);
    t.match(response.headers.get('content-type'), /text\/html/);
    t.match(await response.text(), title);
  }
});

t.test('with the demo page off, the banner does not name it', async (t) => {
  const system = await startEmbedded({ PUSHWIRE_DEMO_PREFIX: 'off' });
  t.teardown(() => system.stop());
  t.notMatch(system.output(), /^ {2}demo page/m);
  t.match(system.output(), /^ {2}dashboard\s+http/m, 'the dashboard still');
});

t.test('logs: JSON lines when stdout is not a terminal (auto), readable lines with PUSHWIRE_LOG_FORMAT=pretty', async (t) => {
  const json = await startEmbedded({ PUSHWIRE_LOG_LEVEL: 'info' });
  const jsonOutput = json.output();
  await json.stop();
  const logLines = jsonOutput.split('\n').filter((line) => line.startsWith('{'));
  t.ok(logLines.length > 0, 'info lines were written');
  t.ok(logLines.every((line) => typeof (JSON.parse(line) as { msg?: unknown }).msg === 'string'), 'each a JSON object with its message');

  const readable = await startEmbedded({ PUSHWIRE_LOG_LEVEL: 'info', PUSHWIRE_LOG_FORMAT: 'pretty' });
  const readableOutput = readable.output();
  await readable.stop();
  t.match(readableOutput, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: gateway: gateway listening {"id":/m, 'one line each: time, level, role, message, fields');
  t.notMatch(readableOutput, /^\{"level"/m, 'no JSON line');
});
