// Test support: a bare `eventstore.v1` client built from the .proto files with proto-loader
// and nothing of ours, the way another SDK would see the server, so wire tests check the
// protocol itself rather than our client's reading of it.

import { fileURLToPath } from 'node:url';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import type { ChannelCredentials, ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { AnyDefinition, MessageTypeDefinition, MethodDefinition } from '@grpc/proto-loader';

const PROTO_ROOT = fileURLToPath(new URL('../../../proto', import.meta.url));

export const protos = loadSync(['eventstore/v1/eventstore.proto', 'google/rpc/status.proto'], {
  includeDirs: [PROTO_ROOT],
  keepCase: true,
  longs: String,
  defaults: true,
});

export type Message = Record<string, unknown>;
export type Outcome = { readonly ok: true; readonly response: Message } | { readonly ok: false; readonly error: ServiceError };

export interface PlainClientOptions {
  /** The `authorization` metadata sent with every call, as written (`Bearer TOKEN`, or anything). */
  readonly authorization?: string;
  /** TLS, say; plaintext without. */
  readonly credentials?: ChannelCredentials;
  /** Each call's deadline; none without. */
  readonly deadlineMs?: number;
}

export class PlainClient {
  readonly client: Client;

  constructor(
    address: string,
    private readonly options: PlainClientOptions = {},
  ) {
    this.client = new Client(address, options.credentials ?? credentials.createInsecure());
  }

  append(request: object): Promise<Outcome> {
    return this.unary('Append', request);
  }

  readStream(request: object): Promise<Outcome> {
    return this.unary('ReadStream', request);
  }

  /** Responses are decoded messages, unless another `deserialize` is given. */
  subscribe(request: object, deserialize?: (bytes: Buffer) => unknown): ClientReadableStream<unknown> {
    const subscribe = method('Subscribe');
    const deserializer = deserialize ?? subscribe.responseDeserialize;
    return this.client.makeServerStreamRequest(subscribe.path, subscribe.requestSerialize, deserializer, request, this.metadata(), this.callOptions());
  }

  /** Sends these exact bytes as the request of a unary method. */
  raw(path: string, bytes: Buffer): Promise<Outcome> {
    return new Promise((resolve) => {
      const identity = (buffer: Buffer): Buffer => buffer;
      this.client.makeUnaryRequest(path, identity, identity, bytes, (error, response) =>
        resolve(error ? { ok: false, error } : { ok: true, response: { bytes: response } }),
      );
    });
  }

  close(): void {
    this.client.close();
  }

  private metadata(): Metadata {
    const metadata = new Metadata();
    if (this.options.authorization !== undefined) metadata.set('authorization', this.options.authorization);
    return metadata;
  }

  private callOptions(): { deadline?: number } {
    return this.options.deadlineMs === undefined ? {} : { deadline: Date.now() + this.options.deadlineMs };
  }

  private unary(name: string, request: object): Promise<Outcome> {
    const definition = method(name);
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(definition.path, definition.requestSerialize, definition.responseDeserialize, request, this.metadata(), this.callOptions(), (error, response) =>
        resolve(error ? { ok: false, error } : { ok: true, response: asMessage(response) }),
      );
    });
  }
}

export function messageType(name: string): MessageTypeDefinition<object, object> {
  const definition = protos[name];
  if (definition === undefined || !isMessageType(definition)) throw new Error(`${name} is not a message`);
  return definition;
}

export function asMessage(value: unknown): Message {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`not a message: ${String(value)}`);
  return Object.fromEntries(Object.entries(value));
}

function method(name: string): MethodDefinition<object, object> {
  const service = protos['eventstore.v1.EventStore'];
  if (service === undefined || 'format' in service) throw new Error('no EventStore service in the protos');
  const definition = service[name];
  if (definition === undefined) throw new Error(`no method ${name}`);
  return definition;
}

function isMessageType(definition: AnyDefinition): definition is MessageTypeDefinition<object, object> {
  return definition.format === 'Protocol Buffer 3 DescriptorProto';
}
