// Bytes that are not a valid request, seen by the server's handlers instead of by grpc-js
// alone, so the caller gets INVALID_ARGUMENT and the failure is logged like any other.

import type { ServiceDefinition } from '@grpc/proto-loader';
import { InvalidRequestError } from '../event-store/errors.ts';

/**
 * grpc-js answers a request it cannot deserialize with INTERNAL and never calls the
 * handler. Undecodable input is the caller's fault, so the handler gets this marker instead.
 */
class UndecodableRequest {
  constructor(readonly reason: string) {}
}

export function withTolerantDecoding(service: ServiceDefinition): ServiceDefinition {
  const tolerant: ServiceDefinition = {};
  for (const [name, method] of Object.entries(service)) {
    const requestDeserialize = (bytes: Buffer): object => {
      try {
        return method.requestDeserialize(bytes);
      } catch (error) {
        return new UndecodableRequest(error instanceof Error ? error.message : String(error));
      }
    };
    tolerant[name] = { ...method, requestDeserialize };
  }
  return tolerant;
}

/** The request as decoded, or INVALID_ARGUMENT when it could not be. */
export function decoded(request: unknown): unknown {
  if (request instanceof UndecodableRequest) throw new InvalidRequestError(`the request could not be decoded: ${request.reason}`);
  return request;
}
