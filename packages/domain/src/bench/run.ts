/**
 * `pnpm bench` for @ksef-certs/domain: the registry's reads (the certificate list, resolution, reports) on the
 * embedded database and on PostgreSQL, each beside its raw SQL measured in the same run. Not part of the tests.
 */
import { benchRegistry } from "./registry.js";

console.log(`@ksef-certs/domain benchmarks — node ${process.version}`);
await benchRegistry();
