// grpc-js service definitions and clients straight from protobuf-es service descriptors.
//
// The request deserializer never throws: grpc-js would answer a throwing deserializer with
// INTERNAL, but a request whose text is not valid UTF-8 is the client's mistake. So a request that
// does not decode becomes a DecodeFailure, and the handler answers it with INVALID_ARGUMENT.

import {
  type DescMessage,
  type DescService,
  fromBinary,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';

export const DECODE_FAILURE = Symbol('decode failure');
export interface DecodeFailure {
  [DECODE_FAILURE]: string;
}

export function isDecodeFailure(x: unknown): x is DecodeFailure {
  return typeof x === 'object' && x !== null && DECODE_FAILURE in x;
}

/** Why a request did not decode, or undefined when it did. */
export function decodeFailure(x: unknown): string | undefined {
  return isDecodeFailure(x) ? x[DECODE_FAILURE] : undefined;
}

function decodeSafely(schema: DescMessage, bytes: Buffer): unknown {
  try {
    return fromBinary(schema, bytes);
  } catch (e) {
    const why = /utf-?8|encoded data/i.test(String((e as Error).message))
      ? 'a text field is not valid UTF-8'
      : `the request is not a valid ${schema.typeName} message (${(e as Error).message})`;
    return { [DECODE_FAILURE]: why } satisfies DecodeFailure;
  }
}

const isStreaming = (kind: string, side: 'request' | 'response') =>
  kind === 'bidi_streaming' || kind === (side === 'request' ? 'client_streaming' : 'server_streaming');

/** A grpc-js ServiceDefinition for a protobuf-es service; method names are the descriptor's localName. */
export function serviceDefinition(service: DescService): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const m of service.methods) {
    def[m.localName] = {
      path: `/${service.typeName}/${m.name}`,
      requestStream: isStreaming(m.methodKind, 'request'),
      responseStream: isStreaming(m.methodKind, 'response'),
      requestSerialize: (msg) => Buffer.from(toBinary(m.input, msg as MessageShape<DescMessage>)),
      requestDeserialize: (buf) => decodeSafely(m.input, buf),
      responseSerialize: (msg) => Buffer.from(toBinary(m.output, msg as MessageShape<DescMessage>)),
      responseDeserialize: (buf) => fromBinary(m.output, buf),
    };
  }
  return def;
}

/** A grpc-js client class for a protobuf-es service. */
export function clientConstructor(service: DescService): grpc.ServiceClientConstructor {
  return grpc.makeGenericClientConstructor(serviceDefinition(service), service.name);
}
