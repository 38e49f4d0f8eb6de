// gRPC server reflection (v1 and v1alpha) for protobuf-es service descriptors.
import { type DescFile, type DescService, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';

function collect(file: DescFile, into: Map<string, Uint8Array>): void {
  if (into.has(file.proto.name)) return;
  into.set(file.proto.name, toBinary(FileDescriptorProtoSchema, file.proto));
  for (const dep of file.dependencies) collect(dep, into);
}

/**
 * Adds grpc.reflection (v1 and v1alpha) for the given services. @grpc/reflection only reads the
 * serialized FileDescriptorProtos of a proto-loader package definition, so we hand it those of the
 * protobuf-es descriptors (each service's file and its imports).
 */
export function addReflection(server: grpc.Server, services: DescService[]): void {
  const files = new Map<string, Uint8Array>();
  for (const s of services) collect(s.file, files);
  const fileDescriptorProtos = [...files.values()].map((b) => Buffer.from(b));
  const packageDefinition: Record<string, { fileDescriptorProtos: Buffer[] }> = {};
  for (const s of services) packageDefinition[s.typeName] = { fileDescriptorProtos };
  new ReflectionService(packageDefinition as never).addToServer(server);
}
