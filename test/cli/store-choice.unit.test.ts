// Which event store a run uses, decided from --memory, --addr and the environment before
// anything connects: only known modes, only HOST:PORT addresses, and no `watch` of a store
// that nothing else can write to.

import { describe, expect, it } from 'vitest';
import { chooseStore } from '../../src/cli/store-choice.ts';
import { UsageError } from '../../src/cli/usage-error.ts';

const flags = { memory: false, addr: undefined };

describe('chooseStore', () => {
  it.each<[string, { memory: boolean; addr: string | undefined }, Record<string, string>, object]>([
    ['the default server', flags, {}, { kind: 'grpc', address: '127.0.0.1:50051' }],
    ['--addr', { ...flags, addr: 'localhost:6000' }, { EVENT_STORE_ADDR: 'ignored:1' }, { kind: 'grpc', address: 'localhost:6000' }],
    ['EVENT_STORE_ADDR', flags, { EVENT_STORE_ADDR: '[::1]:6000' }, { kind: 'grpc', address: '[::1]:6000' }],
    ['an empty EVENT_STORE_ADDR', flags, { EVENT_STORE_ADDR: '' }, { kind: 'grpc', address: '127.0.0.1:50051' }],
    ['several servers in EVENT_STORE_ADDR', flags, { EVENT_STORE_ADDR: '10.0.0.1:50051,db-2:50052' }, { kind: 'grpc', address: '10.0.0.1:50051,db-2:50052' }],
    ['--memory', { ...flags, memory: true }, {}, { kind: 'memory' }],
    ['EVENT_STORE_MODE=memory', flags, { EVENT_STORE_MODE: 'memory' }, { kind: 'memory' }],
    ['EVENT_STORE_MODE=grpc', flags, { EVENT_STORE_MODE: 'grpc' }, { kind: 'grpc', address: '127.0.0.1:50051' }],
    ['an empty EVENT_STORE_MODE', flags, { EVENT_STORE_MODE: '' }, { kind: 'grpc', address: '127.0.0.1:50051' }],
  ])('takes %s', (_, options, environment, choice) => {
    expect(chooseStore(options, environment, 'summary')).toEqual(choice);
  });

  it.each<[string, { memory: boolean; addr: string | undefined }, Record<string, string>, 'summary' | 'watch', string]>([
    ['a mode in other letters', flags, { EVENT_STORE_MODE: 'Memory' }, 'summary', 'EVENT_STORE_MODE is "Memory"; it takes memory or grpc (unset or empty: grpc)'],
    ['an unknown mode', flags, { EVENT_STORE_MODE: 'postgres' }, 'summary', 'EVENT_STORE_MODE is "postgres"; it takes memory or grpc'],
    ['a URL for --addr', { ...flags, addr: 'http://127.0.0.1:50051' }, {}, 'summary', '--addr takes HOST:PORT, like 127.0.0.1:50051, not "http://127.0.0.1:50051" (without the scheme: 127.0.0.1:50051)'],
    ['a port alone for --addr', { ...flags, addr: '50051' }, {}, 'summary', '--addr takes HOST:PORT, like 127.0.0.1:50051, not "50051" (with a host: 127.0.0.1:50051)'],
    ['a port out of range', { ...flags, addr: 'localhost:70000' }, {}, 'summary', '--addr takes HOST:PORT'],
    ['one bad server of several', { ...flags, addr: 'localhost:6000,6001' }, {}, 'summary', '--addr takes HOST:PORT, like 127.0.0.1:50051, not "6001" (with a host: 127.0.0.1:6001)'],
    ['an empty entry in a list', { ...flags, addr: 'localhost:6000,' }, {}, 'summary', '--addr takes HOST:PORT, like 127.0.0.1:50051, not ""'],
    ['a URL in EVENT_STORE_ADDR', flags, { EVENT_STORE_ADDR: 'http://localhost:50051/' }, 'summary', 'EVENT_STORE_ADDR takes HOST:PORT, like 127.0.0.1:50051, not "http://localhost:50051/" (without the scheme: localhost:50051)'],
    ['watch of --memory', { ...flags, memory: true }, {}, 'watch', 'watch follows what other processes append, but with --memory the store lives inside this process'],
    ['watch of EVENT_STORE_MODE=memory', flags, { EVENT_STORE_MODE: 'memory' }, 'watch', 'with EVENT_STORE_MODE=memory the store lives inside this process'],
  ])('refuses %s, saying which setting and how to fix it', (_, options, environment, command, message) => {
    expect(() => chooseStore(options, environment, command)).toThrow(UsageError);
    expect(() => chooseStore(options, environment, command)).toThrow(message);
  });
});

describe('chooseStore for a protected server', () => {
  const grpc = { memory: false, addr: undefined, token: undefined, tls: false };

  it.each<[string, { token?: string; tls?: boolean }, Record<string, string>, object]>([
    ['--token', { token: 'from-the-flag' }, { EVENT_STORE_TOKEN: 'from-the-environment' }, { token: 'from-the-flag' }],
    ['EVENT_STORE_TOKEN', {}, { EVENT_STORE_TOKEN: 'from-the-environment' }, { token: 'from-the-environment' }],
    ['--tls, trusting the system', { tls: true }, {}, { tls: {} }],
    ['EVENT_STORE_TLS_CA, which turns TLS on', {}, { EVENT_STORE_TLS_CA: 'ca.pem' }, { tls: { caFile: 'ca.pem' } }],
    ['neither token nor TLS when both variables are empty', {}, { EVENT_STORE_TOKEN: '', EVENT_STORE_TLS_CA: '' }, {}],
  ])('takes %s', (_, flags, environment, expected) => {
    expect(chooseStore({ ...grpc, ...flags }, environment, 'summary')).toEqual({ kind: 'grpc', address: '127.0.0.1:50051', ...expected });
  });

  it.each<[string, { token?: string }, Record<string, string>]>([
    ['--token', { token: 's3cret-token\u0007' }, {}],
    ['EVENT_STORE_TOKEN', {}, { EVENT_STORE_TOKEN: 's3cret-token\n' }],
    ['EVENT_STORE_TOKEN', {}, { EVENT_STORE_TOKEN: 's3cret token' }],
    ['--token', { token: 's3cret-tokén' }, {}],
  ])('refuses a token in %s that a header cannot carry, as a usage error that does not show it', (source, flags, environment) => {
    const choose = (): unknown => chooseStore({ ...grpc, ...flags }, environment, 'summary');
    expect(choose).toThrow(UsageError);
    expect(choose).toThrow(`${source}: the token must be visible ASCII characters`);
    expect(choose).not.toThrow(/s3cret/);
  });

  it.each([
    ['--token', { token: 'abc' }],
    ['--tls', { tls: true }],
  ])('refuses %s with --memory, which has no server', (flag, flags) => {
    expect(() => chooseStore({ ...grpc, memory: true, ...flags }, {}, 'summary')).toThrow(`${flag} is for the gRPC server`);
  });
});
