// Test support: what the standard health service (`grpc.health.v1`) of a server says, asked
// the way a load balancer or a probe asks it.

import type { Client } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

/** SERVING, NOT_SERVING, ...; `service` '' is the server as a whole. */
export function healthOf(client: Client | undefined, service = ''): Promise<string> {
  if (client === undefined) throw new Error('no health client');
  const check = healthService['Check'];
  if (check === undefined) throw new Error('no Check method');
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(check.path, check.requestSerialize, check.responseDeserialize, { service }, { deadline: Date.now() + 5_000 }, (error, response) => {
      if (error) reject(error);
      else resolve(typeof response === 'object' && response !== null && 'status' in response ? String(response.status) : 'no status');
    });
  });
}
