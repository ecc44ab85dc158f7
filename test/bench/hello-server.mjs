// A one-process hello-world target for the driver benchmarks. It runs in its own process so it does not
// share an event loop with the load generator; it prints its port on the first line of stdout.
import { createServer } from 'node:http';

const body = Buffer.from('hello world');
const server = createServer((_request, response) => {
  response.setHeader('content-type', 'text/plain');
  response.end(body);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : ''}\n`);
});
// The parent ends the benchmark by closing our stdin, which also covers the parent dying.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
