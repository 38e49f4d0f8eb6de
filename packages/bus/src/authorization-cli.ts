// `npm run nats:authorization -w @emoverse/bus`: writes the chart's NATS users and permissions from permissions.ts.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { natsAuthorizationConfig } from './permissions.js';

/** deploy/helm/emoverse/files/nats-authorization.conf: included by the chart and by @emoverse/testing's nats-server. */
export const authorizationFile = fileURLToPath(
  new URL('../../../deploy/helm/emoverse/files/nats-authorization.conf', import.meta.url),
);

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(authorizationFile, natsAuthorizationConfig());
  console.log(`wrote ${authorizationFile}`);
}
