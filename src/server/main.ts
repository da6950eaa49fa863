// The event store server's entry point (`pnpm event-store`, which runs node on it directly,
// so this process is the server itself and no wrapper stands between it and a SIGHUP):
// reads its environment, opens the chosen backend and serves it over gRPC until SIGINT or SIGTERM.

import { logVerbosity, setLogVerbosity } from '@grpc/grpc-js';
import { buildServer } from './build-server.ts';
import { BackendConfigError, openBackend } from './backend.ts';
import { reloadTokens, SecurityConfigError, securityFromEnv } from './security.ts';

// Loopback unless told otherwise: beyond it, the server wants tokens (see security.ts).
const bindAddress = process.env.BIND_ADDR || '127.0.0.1:50051';
const backendName = process.env.BACKEND || 'memory';

const security = await securityFromEnv(process.env, bindAddress).catch((error: unknown) => {
  if (error instanceof SecurityConfigError) exit(2, error.message);
  throw error;
});
const backend = await openBackend(backendName).catch((error: unknown) => {
  if (error instanceof BackendConfigError) exit(2, error.message);
  throw error;
});
const { access, credentials } = security;
const served = buildServer(backend.store, {
  credentials,
  ...(access === undefined ? {} : { access }),
  ...(backend.probe === undefined ? {} : { health: { probe: backend.probe } }),
});
// grpc-js logs a failed bind itself ("E No address added ..."), ahead of our own message
// below that says what to do: its logger is quiet until the server listens.
setLogVerbosity(logVerbosity.NONE);
const port = await served.listen(bindAddress).catch((error: unknown) => {
  const why = error instanceof Error ? error.message : String(error);
  const inUse = /EADDRINUSE/.test(why) ? 'the port is in use (another event store server?); stop that one, or set BIND_ADDR to another port' : why;
  exit(1, `cannot listen on ${bindAddress}: ${inUse}`);
});
setLogVerbosity(grpcLogVerbosity());
// Port 0 asks for any free port: say which one was bound.
const host = bindAddress.slice(0, bindAddress.lastIndexOf(':'));
console.log(`event store server listening on ${host}:${port} (backend: ${backend.name})`);
for (const notice of security.notices) console.log(`event store server: ${notice}`);

const tokensFile = process.env.EVENT_STORE_TOKENS_FILE;
if (access !== undefined && tokensFile !== undefined) {
  // The pid to signal is this one: not pnpm's, which is not the server.
  console.log(`event store server: \`kill -HUP ${process.pid}\` reads the tokens file again`);
  process.on('SIGHUP', () => void reloadTokens(access, tokensFile).then((outcome) => console.log(`event store server: ${outcome}`)));
}

const stop = async (signal: string): Promise<void> => {
  console.log(`event store server: ${signal} received, finishing calls in flight`);
  await served.shutdown();
  await backend.probe?.close();
  await backend.store.close();
  console.log('event store server: stopped');
  process.exit(0);
};
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));

/** The level grpc-js reads from its environment at start: ERROR unless told otherwise. */
function grpcLogVerbosity(): logVerbosity {
  const levels: Record<string, logVerbosity> = { DEBUG: logVerbosity.DEBUG, INFO: logVerbosity.INFO, ERROR: logVerbosity.ERROR, NONE: logVerbosity.NONE };
  return levels[(process.env.GRPC_NODE_VERBOSITY ?? process.env.GRPC_VERBOSITY ?? '').toUpperCase()] ?? logVerbosity.ERROR;
}

function exit(code: number, message: string): never {
  console.error(`event store server: ${message}`);
  process.exit(code);
}
