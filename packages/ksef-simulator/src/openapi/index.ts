/** `@ksef-certs/ksef-simulator/openapi` (being built for issue 3). */
export {};
