// Kubernetes objects as typed TypeScript: GPU training Jobs, the chart's manifests, submission and watch
export {};
