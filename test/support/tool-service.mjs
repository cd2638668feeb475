// A REST tool service run as a real process by the Consul fault tests (plain JS: no build step).
// GET /items is read-only; POST /records has a side effect, appended to the log file named on the
// command line before the answer is sent, so it is counted even when the process is killed mid-call.
// Usage: node tool-service.mjs <execution-log> <instance-name>
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [log, name] = process.argv.slice(2);
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
const json = (res, status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

const server = createServer(async (req, res) => {
  let text = '';
  for await (const chunk of req) text += chunk;
  if (req.url === '/health') return res.end('ok');
  if (req.method === 'GET' && req.url.startsWith('/items')) {
    await pause(5);
    return json(res, 200, { items: ['a', 'b'], instance: name });
  }
  if (req.method === 'POST' && req.url === '/records') {
    const { id } = JSON.parse(text);
    appendFileSync(log, `${id}\n`);
    await pause(20);
    return json(res, 201, { id, instance: name });
  }
  json(res, 404, { error: 'no such route' });
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
