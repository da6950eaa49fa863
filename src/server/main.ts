// The event store server's entry point (`pnpm event-store`): reads its environment,
// opens the chosen backend and serves it over gRPC until SIGINT or SIGTERM.

import { buildServer } from './build-server.ts';
import { BackendConfigError, openBackend } from './backend.ts';

// Loopback unless told otherwise: the server has no authentication.
const bindAddress = process.env.BIND_ADDR || '127.0.0.1:50051';
const backendName = process.env.BACKEND || 'memory';

const backend = await openBackend(backendName).catch((error: unknown) => {
  if (error instanceof BackendConfigError) exit(2, error.message);
  throw error;
});
const served = buildServer(backend.store);
const port = await served.listen(bindAddress).catch((error: unknown) => {
  exit(1, `cannot listen on ${bindAddress}: ${error instanceof Error ? error.message : String(error)}`);
});
// Port 0 asks for any free port: say which one was bound.
const host = bindAddress.slice(0, bindAddress.lastIndexOf(':'));
console.log(`event store server listening on ${host}:${port} (backend: ${backend.name})`);

const stop = async (signal: string): Promise<void> => {
  console.log(`event store server: ${signal} received, finishing calls in flight`);
  await served.shutdown();
  await backend.store.close();
  console.log('event store server: stopped');
  process.exit(0);
};
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));

function exit(code: number, message: string): never {
  console.error(`event store server: ${message}`);
  process.exit(code);
}
