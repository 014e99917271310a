/** `@ksef-certs/core/enrollment` (being built for the registry issue). */
export {};
