// How the gRPC client turns an address into a channel: one server by its name, several as
// one round-robin channel over their IP addresses, each name looked up once.

import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../../src/event-store/errors.ts';
import { channelTarget, serversOf } from '../../../src/event-store/grpc/channel-target.ts';

describe('channelTarget', () => {
  it('leaves one server to grpc-js as given, with no balancing', async () => {
    expect(await channelTarget('localhost:50051')).toEqual({ target: 'localhost:50051', options: {} });
  });

  it('spreads several servers round robin, names looked up', async () => {
    const { target, options } = await channelTarget('127.0.0.1:50051,localhost:50052');
    expect(target).toMatch(/^ipv4:127\.0\.0\.1:50051,127\.0\.0\.1:50052$|^ipv6:/);
    expect(JSON.parse(String(options['grpc.service_config']))).toEqual({ loadBalancingConfig: [{ round_robin: {} }] });
  });

  it('writes IPv6 servers in brackets', async () => {
    expect((await channelTarget('[::1]:1,[::1]:2')).target).toBe('ipv6:[::1]:1,[::1]:2');
  });

  it('refuses a mix of IPv4 and IPv6, and a name that does not resolve, as unreachable', async () => {
    await expect(channelTarget('127.0.0.1:1,[::1]:2')).rejects.toThrow(StoreUnavailableError);
    await expect(channelTarget('127.0.0.1:1,no-such-host.invalid:2')).rejects.toThrow(/cannot look up no-such-host\.invalid/);
  });

  it('splits an address into its servers', () => {
    expect(serversOf('a:1,[::1]:2')).toEqual([{ host: 'a', port: '1' }, { host: '::1', port: '2' }]);
  });
});
