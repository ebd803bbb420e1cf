/** npm run bench:engines — the engine cases of `npm run bench` (bench/engines.ts) alone, as a table. */
import { printRows, run } from './engines';

run().then(
  (r) => printRows(r.rows),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
