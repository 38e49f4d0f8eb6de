// grpc-js service definitions from protobuf-es descriptors (binary (de)serialization, undecodable requests).
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';

/**
 * A request whose bytes did not decode (e.g. a string field that is not valid UTF-8). The
 * deserializer returns it instead of throwing, because grpc-js answers a throwing deserializer with
 * INTERNAL, while a malformed request is the caller's mistake: the handler wrapper answers
 * INVALID_ARGUMENT with the reason.
 */
export class UndecodableRequest {
  constructor(readonly reason: string) {}
}

function decode(schema: DescMessage, bytes: Buffer): unknown {
  try {
    return fromBinary(schema, bytes);
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    return new UndecodableRequest(
      /utf-?8|encoded data/i.test(message)
        ? 'a text field of the request is not valid UTF-8'
        : `the request is not a valid ${schema.typeName} message: ${message}`,
    );
  }
}

/**
 * A grpc-js service definition from a protobuf-es v2 service descriptor (GenService), so services
 * use the generated descriptors directly with no second code generator. Keys are method names
 * ("FacialExpression"); (de)serialization is protobuf-es binary.
 */
export function grpcServiceDefinition(service: DescService): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    definition[method.name] = methodDefinition(service, method);
  }
  return definition as grpc.ServiceDefinition;
}

function methodDefinition(service: DescService, method: DescMethod): grpc.MethodDefinition<unknown, unknown> {
  const input = method.input;
  const output = method.output;
  return {
    path: `/${service.typeName}/${method.name}`,
    requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
    responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
    requestSerialize: (m: unknown) => serialize(input, m),
    requestDeserialize: (b: Buffer) => decode(input, b),
    responseSerialize: (m: unknown) => serialize(output, m),
    responseDeserialize: (b: Buffer) => fromBinary(output, b),
    originalName: method.localName,
  };
}

function serialize<D extends DescMessage>(schema: D, m: unknown): Buffer {
  const msg = create(schema, m as MessageInitShape<D>);
  const bytes = toBinary(schema, msg);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export type In<M extends DescMethod> = MessageShape<M['input']>;
export type OutInit<M extends DescMethod> = MessageInitShape<M['output']>;
export type InInit<M extends DescMethod> = MessageInitShape<M['input']>;
export type Out<M extends DescMethod> = MessageShape<M['output']>;
