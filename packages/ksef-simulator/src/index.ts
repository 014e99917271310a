/** `@ksef-certs/ksef-simulator` (being built for issue 3). */
export {};
