// Bytes that are not a valid request, seen by the server's handlers instead of by grpc-js
// alone, so the caller gets INVALID_ARGUMENT and the failure is logged like any other.

import type { MethodDefinition, PackageDefinition, ServiceDefinition } from '@grpc/proto-loader';
import { InvalidRequestError } from '../event-store/errors.ts';
import { stringChecker } from './strict-strings.ts';

/**
 * grpc-js answers a request it cannot deserialize with INTERNAL and never calls the
 * handler. Undecodable input is the caller's fault, so the handler gets this marker instead.
 */
class UndecodableRequest {
  constructor(readonly reason: string) {}
}

/** Also refuses, before decoding, strings that are not valid UTF-8 (see strict-strings.ts). */
export function withTolerantDecoding(service: ServiceDefinition, definition: PackageDefinition): ServiceDefinition {
  const tolerant: ServiceDefinition = {};
  for (const [name, method] of Object.entries(service)) {
    const problemIn = stringChecker(definition, requestTypeName(method));
    const requestDeserialize = (bytes: Buffer): object => {
      const problem = problemIn(bytes);
      if (problem !== undefined) return new UndecodableRequest(problem);
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

/** e.g. `eventstore.v1.AppendRequest`: the service's package (from the path) and the type's name. */
function requestTypeName(method: MethodDefinition<object, object>): string {
  const service = method.path.split('/')[1] ?? '';
  const type = method.requestType.type;
  const name = 'name' in type && typeof type.name === 'string' ? type.name : '';
  return `${service.slice(0, service.lastIndexOf('.'))}.${name}`;
}

/** The request as decoded, or INVALID_ARGUMENT when it could not be. */
export function decoded(request: unknown): unknown {
  if (request instanceof UndecodableRequest) throw new InvalidRequestError(`the request could not be decoded: ${request.reason}`);
  return request;
}
