// Kubernetes objects as typed TypeScript: GPU training Jobs, the chart's manifests, submission and watch.

export { buildCertificates, grpcTlsSecretName } from './private/certificates.js';
export { natsUrl } from './private/env.js';
export { buildGatewayHpa, buildGatewayPdb } from './private/gateway-scaling.js';
export type { JobPhase, JobStateChange, WatchOptions } from './private/job-submitter.js';
export { JobSubmitter, jobPhase, terminalPhases } from './private/job-submitter.js';
export { components, labels, objectName, selectorLabels } from './private/names.js';
export { buildNats, buildNatsPdb, natsConfig } from './private/nats.js';
export { buildNetworkPolicies, releasePodSelector, urlPort } from './private/network-policies.js';
export { podSpecOf, restrictedViolations } from './private/pod-security.js';
export { type RenderOptions, renderManifests, toYamlStream } from './private/render.js';
export {
  buildSecrets,
  gatewayAuthSecretName,
  generatedSecretPattern,
  natsAuthSecretName,
  natsClientTlsSecretName,
  natsTlsSecretName,
  randomSecretValue,
  type SecretGenerator,
} from './private/secrets.js';
export { buildModelsPvc } from './private/storage.js';
export { buildTrainerRbac } from './private/trainer-rbac.js';
export type { TrainingJobConfig, TrainingRunSpec } from './private/training-job.js';
export {
  badInputExitCode,
  buildTrainingJob,
  buildTrainingJobConfigMap,
  readTrainingJobConfig,
  runIdLabel,
  trainingJobConfigFromValues,
  trainingJobName,
  trainingJobSelector,
} from './private/training-job.js';
export { assertValid, supportedKinds, validateObject } from './private/validate.js';
export type {
  CertManagerValues,
  EmoverseValues,
  ExecutionProvider,
  GatewayValues,
  GrpcTlsValues,
  ImageValues,
  NatsValues,
  NetworkPolicyValues,
  Release,
  ResourceValues,
  ServiceValues,
  StorageValues,
  TelemetryValues,
  TrainingValues,
} from './private/values.js';
export { defaultRelease, defaultValues, mergeValues } from './private/values.js';
export { loadValuesFiles } from './private/values-files.js';
export { buildServiceDeployment, buildServiceService, gpuResource, grpcProbes } from './private/workloads.js';
