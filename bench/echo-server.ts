// Bench floor: the echo server, a child process of the bench so that the floors cross a
// process boundary as the event store's calls do. Prints "listening on 127.0.0.1:PORT".

import { once } from 'node:events';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { decodeStreamOrder, ECHO_SERVICE } from './echo-protocol.ts';

const implementation: UntypedServiceImplementation = {
  echo: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => callback(null, call.request),
  stream: (call: ServerWritableStream<Buffer, Buffer>) => void stream(call),
};

async function stream(call: ServerWritableStream<Buffer, Buffer>): Promise<void> {
  const { count, size } = decodeStreamOrder(call.request);
  const message = Buffer.alloc(size, 0x61);
  let cancelled = false;
  const gone = once(call, 'cancelled').then(() => (cancelled = true), () => (cancelled = true));
  try {
    for (let sent = 0; sent < count && !cancelled; sent++) {
      // Honour backpressure as the event store's Subscribe does, so the floor is a fair one.
      if (!call.write(message)) await Promise.race([once(call, 'drain'), gone]);
    }
    if (!cancelled) call.end();
  } catch {
    // The reader went away mid-stream: nothing to answer.
  }
}

// Same keepalive settings as the event store server, so transport behaviour matches.
const server = new Server({ 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000 });
server.addService(ECHO_SERVICE, implementation);
const bindAddress = process.env.BIND_ADDR || '127.0.0.1:0';
server.bindAsync(bindAddress, ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    console.error(`echo server: cannot listen on ${bindAddress}: ${error.message}`);
    process.exit(1);
  }
  console.log(`echo server listening on 127.0.0.1:${port}`);
});
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
