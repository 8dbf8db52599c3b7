// gRPC definition of the control plane's certificate service (see weft/ca/v1/ca.proto).
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { weft } from '../gen/weft.js';

export const { CreateCertificateRequest, CreateCertificateResponse } = weft.ca.v1;
export type CreateCertificateRequest = weft.ca.v1.CreateCertificateRequest;
export type CreateCertificateResponse = weft.ca.v1.CreateCertificateResponse;

export const createCertificateMethod: MethodDefinition<CreateCertificateRequest, CreateCertificateResponse> = {
  path: '/weft.ca.v1.CertificateService/CreateCertificate',
  requestStream: false,
  responseStream: false,
  requestSerialize: (value) => Buffer.from(CreateCertificateRequest.encode(value).finish()),
  requestDeserialize: (bytes) => CreateCertificateRequest.decode(bytes),
  responseSerialize: (value) => Buffer.from(CreateCertificateResponse.encode(value).finish()),
  responseDeserialize: (bytes) => CreateCertificateResponse.decode(bytes),
};

export const certificateService: ServiceDefinition = {
  CreateCertificate: createCertificateMethod,
};
