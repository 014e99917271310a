/** `@ksef-certs/core/xades` (being built for issue 3). */
export {};
