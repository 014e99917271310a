/**
 * `@ksef-certs/testing/errors`: error assertions: `thrown(fn)` and `rejection(promise)` return the `KsefCertsError`
 * a call throws or rejects with, and fail the test on anything else (implemented in `@ksef-certs/ksef/testing`).
 */
export { rejection, thrown } from "@ksef-certs/ksef/testing";
