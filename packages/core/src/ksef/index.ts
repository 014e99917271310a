/** `@ksef-certs/core/ksef` (being built for issue 3). */
export {};
