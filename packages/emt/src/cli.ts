// npm run emt:build -- --shared <dir> --out <dir> (see private/cli-main.ts for every option)
import { runCli } from './private/cli-main.js';

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  },
);
