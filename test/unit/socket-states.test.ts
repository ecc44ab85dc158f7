import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  newConnectionsPerSec,
  parseProcNetTcp,
  readSocketStates,
} from '../../harness/collect/socket-states.ts';

const TAIL = '00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 20 4 30 10 -1';
// Port 8080 = 1F90 (the entry service), 5432 = 1538 (its database), 80 = 0050 (something else).
const TCP = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  `   0: 0100007F:1F90 00000000:0000 0A ${TAIL}`,
  `   1: 0100007F:1F90 0100007F:C350 01 ${TAIL}`,
  // The client side of connection 1: remote port 8080, so not counted.
  `   2: 0100007F:C350 0100007F:1F90 01 ${TAIL}`,
  '   3: 0100007F:1F90 0100007F:C351 06 00000000:00000000 03:00000F6A 00000000     0        0 0 3 0000000000000000',
  `   4: 0100007F:1F90 0100007F:C352 08 ${TAIL}`,
  `   5: 0100007F:1538 0100007F:D000 01 ${TAIL}`,
  `   6: 0100007F:D000 0100007F:1538 01 ${TAIL}`,
  `   7: 0100007F:0050 0100007F:C353 01 ${TAIL}`,
  `   8: 0100007F:1F90 0100007F:C354 01 ${TAIL}`,
  '',
].join('\n');
const TCP6 = [
  '  sl  local_address                         remote_address                        st tx_queue rx_queue',
  `   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A ${TAIL}`,
  // An IPv4 client on a dual-stack listener shows up here, as ::ffff:127.0.0.1.
  `   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:C360 01 ${TAIL}`,
  '',
].join('\n');

describe('parseProcNetTcp', () => {
  it('counts server-side states on the target ports across tcp and tcp6', () => {
    const states = parseProcNetTcp(`${TCP}\n${TCP6}`, [8080, 5432], 8080);
    expect({ ...states, entryConnections: [...states.entryConnections] }).toEqual({
      established: 4,
      timeWait: 1,
      closeWait: 1,
      listen: 2,
      entryConnections: [
        '0100007F:1F90>0100007F:C350',
        '0100007F:1F90>0100007F:C351',
        '0100007F:1F90>0100007F:C352',
        '0100007F:1F90>0100007F:C354',
        '0000000000000000FFFF00000100007F:1F90>0000000000000000FFFF00000100007F:C360',
      ],
    });
  });

  it('counts nothing for a port nobody uses', () => {
    const states = parseProcNetTcp(TCP, [9999], 9999);
    expect([states.established, states.timeWait, states.closeWait, states.listen]).toEqual([0, 0, 0, 0]);
    expect(states.entryConnections.size).toBe(0);
  });

  it('turns connection keys seen in consecutive samples into a rate', () => {
    const before = new Set(['a', 'b']);
    expect(newConnectionsPerSec(before, new Set(['b', 'c', 'd']), 500)).toBe(4);
    expect(newConnectionsPerSec(before, before, 250)).toBe(0);
    expect(newConnectionsPerSec(before, before, 0)).toBeUndefined();
  });
});

describe('readSocketStates on real sockets', () => {
  let server: Server | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    const closing = server;
    server = undefined;
    if (closing !== undefined) await new Promise((resolve) => closing.close(resolve));
  });

  it('sees 5 ESTABLISHED server-side sockets, then CLOSE_WAIT when clients end and the server does not', async () => {
    const accepted: Socket[] = [];
    // allowHalfOpen: the server side does not answer the clients' FIN, so it stays in CLOSE_WAIT.
    const started = createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('error', () => {}); // Resets during teardown are expected.
      accepted.push(socket);
      sockets.push(socket);
    });
    server = started;
    await new Promise<void>((resolve) => started.listen(0, '127.0.0.1', resolve));
    const port = (started.address() as AddressInfo).port;

    const clients = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const client = connect(port, '127.0.0.1').on('error', () => {});
        sockets.push(client);
        await once(client, 'connect');
        return client;
      }),
    );
    while (accepted.length < 5) await new Promise((resolve) => setTimeout(resolve, 5));

    const open = await readSocketStates([port], port);
    // Counting by remote port as well would give 10: the clients' sockets are on this host too.
    expect(open.established).toBe(5);
    expect(open.listen).toBe(1);
    expect(open.entryConnections.size).toBe(5);
    // Our own network namespace read through our pid gives the same picture.
    expect((await readSocketStates([port], port, process.pid)).established).toBe(5);

    const sixth = connect(port, '127.0.0.1').on('error', () => {});
    sockets.push(sixth);
    await once(sixth, 'connect');
    while (accepted.length < 6) await new Promise((resolve) => setTimeout(resolve, 5));
    const more = await readSocketStates([port], port);
    expect(newConnectionsPerSec(open.entryConnections, more.entryConnections, 1000)).toBe(1);
    // Closed from the server side, so it lingers in TIME_WAIT there, not in CLOSE_WAIT.
    accepted[5]?.destroy();

    const ended = accepted.slice(0, 5).map((socket) => once(socket, 'end'));
    for (const client of clients) client.end();
    await Promise.all(ended);
    const closing = await readSocketStates([port], port);
    expect(closing.closeWait).toBe(5);
  });
});
