// The demo page: one token per browser (kept in localStorage), its own queue, every message
// live or caught up, resuming after the last key across reconnects and reloads.
import { createToken, enableWebPush, localStorageKeyStore, PushwireClient } from '/sdk/pushwire.js';

const api = location.origin;
const $ = (id) => document.getElementById(id);

async function identity() {
  const saved = JSON.parse(localStorage.getItem('pushwire:demo') ?? 'null');
  if (saved) return saved;
  const created = await createToken(api);
  localStorage.setItem('pushwire:demo', JSON.stringify(created));
  return created;
}

function render(message, client) {
  const list = $('messages');
  const replaceId = message.body.replaceId;
  // Messages sharing a replaceId collapse: the newest takes the older one's place on screen too.
  const older = replaceId ? list.querySelector(`li[data-replace-id="${CSS.escape(replaceId)}"]`) : null;
  const item = document.createElement('li');
  item.dataset.key = message.key;
  if (replaceId) item.dataset.replaceId = replaceId;
  const title = document.createElement('strong');
  title.textContent = message.body.title;
  const body = document.createElement('div');
  body.textContent = message.body.body ?? '';
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.textContent = `${new Date(Number(message.timestamp) * 1000).toLocaleTimeString()} · ${message.key}`;
  const read = document.createElement('button');
  read.type = 'button';
  read.textContent = 'mark read';
  read.onclick = () => client.markRead(message).catch((error) => ($('notice').textContent = error.message));
  item.append(title, body, meta, read);
  if (older) older.replaceWith(item);
  else list.prepend(item);
  $('count').textContent = String(list.children.length);
}

const { token, queue } = await identity();
$('queue').textContent = queue;
$('curl').textContent = `curl -X POST ${queue} -H 'content-type: application/json' -d '{"title": "Hello", "body": "from curl"}'`;

const store = localStorageKeyStore(token);
const resumedAfter = store.get();
const client = new PushwireClient({ api, token, store });
// For the curious (and the browser tests): the client and every key this page received, in order.
const received = [];
window.pushwireDemo = { client, received };
if (resumedAfter) $('resume').textContent = `resuming after ${resumedAfter}`;
const showState = () => {
  $('state').textContent = client.state;
  $('state').dataset.state = client.state;
  $('node').textContent = client.node ? `gateway ${client.node}` : '';
};
client.on('connected', () => {
  showState();
  $('notice').textContent = '';
});
client.on('disconnected', ({ retryInMs }) => {
  showState();
  if (retryInMs !== null) $('notice').textContent = `reconnecting in ${(retryInMs / 1000).toFixed(1)} s`;
});
client.on('message', (message) => {
  received.push(message.key);
  render(message, client);
});
client.on('read', (message) => document.querySelector(`li[data-key="${message.body.read}"]`)?.classList.add('read'));
client.on('error', (error) => ($('notice').textContent = `${error.code}: ${error.message}`));
client.start();
showState();

$('notify').onclick = () => enableWebPush({ api, token })
  .then(() => ($('notice').textContent = 'notifications on'))
  .catch((error) => ($('notice').textContent = error.message));
$('reset').onclick = () => {
  localStorage.clear();
  location.reload();
};
