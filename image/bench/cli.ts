import { parseArgs } from 'node:util';
import { runBenchmark } from './bench.js';

const { values } = parseArgs({
  options: {
    repetitions: { type: 'string', default: '3' },
    messages: { type: 'string', default: '1000' },
    bytes: { type: 'string', default: '10000' },
    clients: { type: 'string', default: '10' },
    'rate-limit': { type: 'string', default: '60' },
  },
});

runBenchmark({
  repetitions: Number(values.repetitions),
  count: Number(values.messages),
  bytes: Number(values.bytes),
  clients: Number(values.clients),
  rateLimit: Number(values['rate-limit']),
}).then(
  (results) => {
    const failures = [!results.product.allExactlyOnce && 'product lost or duplicated mail', !results.baseline.allExactlyOnce && 'baseline lost or duplicated mail'].filter(Boolean);
    if (failures.length > 0) {
      process.stderr.write(`${failures.join('; ')}\n`);
      process.exitCode = 1;
    }
  },
  (error: unknown) => {
    process.stderr.write(`npm run bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
