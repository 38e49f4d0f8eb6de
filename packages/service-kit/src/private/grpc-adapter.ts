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
    requestDeserialize: (b: Buffer) => fromBinary(input, b),
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
