// Where the chart and the Dockerfiles live, relative to this package (tests and tools read them in place).
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url)).replace(/\/$/, '');
export const chartDir = `${repoRoot}/deploy/helm/emoverse`;
export const dockerDir = `${repoRoot}/deploy/docker`;
