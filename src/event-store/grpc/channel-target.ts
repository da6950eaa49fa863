// Where the gRPC client connects, and the channel it connects with: one server, or several
// serving one database. With several, grpc-js spreads calls over them round robin and
// leaves out those that stop answering, so losing one server costs a client a resend or a
// resumed subscription.

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Client, credentials } from '@grpc/grpc-js';
import type { ChannelOptions } from '@grpc/grpc-js';
import { StoreUnavailableError } from '../errors.ts';
import { CHANNEL_OPTIONS } from './channel-options.ts';

export interface ChannelTarget {
  /** What the grpc-js Client is given as its target. */
  readonly target: string;
  readonly options: ChannelOptions;
}

/** The servers of an address like `a:50051,b:50051`, each as `host` and `port`. */
export function serversOf(address: string): Array<{ host: string; port: string }> {
  return address.split(',').map((one) => {
    const colon = one.lastIndexOf(':');
    const host = one.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    return { host, port: one.slice(colon + 1) };
  });
}

/**
 * One server: its name as given, resolved by grpc-js as usual. Several: grpc-js has no
 * resolver for a list of names, only for a list of IP addresses of one family, so each
 * name is looked up here, once, when the client connects.
 */
export async function channelTarget(address: string): Promise<ChannelTarget> {
  const servers = serversOf(address);
  if (servers.length === 1) return { target: address, options: {} };
  const resolved = await Promise.all(
    servers.map(async ({ host, port }) => {
      if (isIP(host) !== 0) return { ip: host, family: isIP(host), port };
      try {
        const found = await lookup(host);
        return { ip: found.address, family: found.family, port };
      } catch (error) {
        throw new StoreUnavailableError(`cannot look up ${host} (of ${address}): ${error instanceof Error ? error.message : String(error)}`);
      }
    }),
  );
  const families = new Set(resolved.map((server) => server.family));
  if (families.size > 1) {
    throw new StoreUnavailableError(`${address} mixes IPv4 and IPv6 servers; gRPC spreads calls over servers of one kind only`);
  }
  const target = families.has(6)
    ? `ipv6:${resolved.map(({ ip, port }) => `[${ip}]:${port}`).join(',')}`
    : `ipv4:${resolved.map(({ ip, port }) => `${ip}:${port}`).join(',')}`;
  return {
    target,
    options: { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) },
  };
}

/** A token travels in a header, so visible ASCII only: no spaces, no control characters. */
export const SENDABLE_TOKEN = /^[\x21-\x7e]+$/;

/** Why a token cannot be sent; it never repeats the token, a secret. */
export const UNSENDABLE_TOKEN = 'the token must be visible ASCII characters (no spaces, control characters or accents); it is not shown here';

/**
 * A channel to the server(s) at `address`, once one answers: a missing server is reported
 * here, promptly, as StoreUnavailableError naming the address, rather than by the first call.
 */
export async function openChannel(settings: {
  readonly address: string;
  readonly connectTimeoutMs: number;
  readonly tls?: { readonly ca?: Buffer } | undefined;
}): Promise<Client> {
  const unavailable = (why: string): StoreUnavailableError =>
    new StoreUnavailableError(`no event store server answered at ${settings.address}: ${why}`);
  const { target, options: spreading } = await channelTarget(settings.address);
  let client: Client;
  try {
    const channel = settings.tls === undefined ? credentials.createInsecure() : credentials.createSsl(settings.tls.ca ?? null);
    client = new Client(target, channel, { ...CHANNEL_OPTIONS, ...spreading });
  } catch (error) {
    throw unavailable(error instanceof Error ? error.message : String(error));
  }
  try {
    await new Promise<void>((resolve, reject) => {
      client.waitForReady(Date.now() + settings.connectTimeoutMs, (error) => (error ? reject(error) : resolve()));
    });
  } catch {
    client.close();
    // A TLS server and a plaintext client (or the other way round) never get as far as a
    // refusal: the connection just never becomes ready, so say which one this side spoke.
    const spoken = settings.tls === undefined ? 'plaintext; a server that speaks TLS needs TLS here too' : 'TLS; is the server speaking TLS, with a certificate this side trusts?';
    throw unavailable(`no answer within ${settings.connectTimeoutMs} ms (${spoken})`);
  }
  return client;
}
