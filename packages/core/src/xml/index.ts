/** `@ksef-certs/core/xml` (being built for issue 3). */
export {};
