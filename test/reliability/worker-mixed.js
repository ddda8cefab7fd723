'use strict';
// A worker thread using the library (from its TypeScript sources) at the
// same time as the main thread, for concurrency.test.ts. workerData:
//   { netns, count }: `count` mixed requests and dumps, then posts a summary;
//   { netns, forever: true }: posts 'busy' once thousands are in flight, and
//   keeps going until terminated (mid-request, by design).
const { parentPort, workerData } = require('node:worker_threads');
require('./ts-register');
const nl = require('../../lib');

async function mixed(h, i) {
  switch (i % 5) {
    case 0:
      return (await h.link.get('lo')).index === 1 ? 'ok' : 'wrong';
    case 1:
      return (await h.link.list()).some((l) => l.name === 'lo') ? 'ok' : 'wrong';
    case 2:
      return (await h.addr.list()).length >= 0 ? 'ok' : 'wrong';
    case 3:
      return (await h.route.list()).length >= 0 ? 'ok' : 'wrong';
    default:
      return h.link.get(987654).then(
        () => 'wrong',
        (e) => (e.code === 'ENODEV' ? 'ok' : `unexpected ${e.code}`),
      );
  }
}

(async () => {
  const h = await nl.open({ netns: workerData.netns });
  if (workerData.forever) {
    const monitor = h.monitor({ groups: ['link', 'addr4'] });
    monitor.on('event', () => undefined);
    let announced = false;
    for (;;) {
      const batch = Promise.all(Array.from({ length: 2000 }, (_, i) => mixed(h, i)));
      if (!announced) {
        announced = true;
        parentPort.postMessage('busy');
      }
      await batch;
    }
  }
  const results = await Promise.all(Array.from({ length: workerData.count }, (_, i) => mixed(h, i)));
  await h.close();
  const summary = {};
  for (const r of results) summary[r] = (summary[r] ?? 0) + 1;
  parentPort.postMessage(summary);
})().catch((e) => parentPort.postMessage({ error: String(e && e.stack) }));
